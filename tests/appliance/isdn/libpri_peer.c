/*
 * libpri_peer: one libpri D-channel, driven line by line from a test.
 *
 *   libpri_peer network|cpe euroisdn|ni2 FD
 *
 * FD is a SOCK_SEQPACKET socket: one LAPD frame (no FCS) per packet, the other end
 * being the stack under test.  libpri runs over it through pri_new_cb().
 *
 * Time is virtual: this program defines gettimeofday(), which libpri's scheduler
 * uses, so the test moves libpri's clock ("time MS") in step with its own.  The run
 * is then exact and as fast as the CPU allows, T309 and all.
 *
 * Commands on stdin, one per line; every command's output ends with "ok":
 *   time MS                  set the virtual time (ms since start), run due timers
 *   next                     "next MS" until libpri's next timer, or "next -1"
 *   poll                     read every frame waiting on FD and let libpri handle it
 *   timer NAME MS            pri_set_timer (NAME: T200 T203 T303 T305 T308 T309 T310 T313)
 *   call CHANNEL EXCL CALLED CALLING     place a call; prints "call ID"
 *   proceed ID | alert ID | answer ID | connect_ack ID
 *   hangup ID CAUSE
 *   restart                  RESTART the whole interface
 *   reset CHANNEL            RESTART one channel
 * Events, as libpri reports them:
 *   event NAME key=value ...
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <libpri.h>

static struct timeval virtual_now = { 1000000, 0 };
static const long BASE_SEC = 1000000;

/* libpri schedules its timers with gettimeofday(): give it the virtual clock. */
int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	(void) tz;
	*tv = virtual_now;
	return 0;
}

#define MAX_CALLS 256
static q931_call *calls[MAX_CALLS];

static int call_id(q931_call *call)
{
	int i;
	if (!call) {
		return -1;
	}
	for (i = 0; i < MAX_CALLS; ++i) {
		if (calls[i] == call) {
			return i;
		}
	}
	for (i = 0; i < MAX_CALLS; ++i) {
		if (!calls[i]) {
			calls[i] = call;
			return i;
		}
	}
	return -1;
}

static q931_call *find_call(int id)
{
	return (id >= 0 && id < MAX_CALLS) ? calls[id] : NULL;
}

static void forget_call(q931_call *call)
{
	int i;
	for (i = 0; i < MAX_CALLS; ++i) {
		if (calls[i] == call) {
			calls[i] = NULL;
		}
	}
}

/* libpri reads and writes frames with room for a 2-octet FCS, as DAHDI does. */
static int read_frame(struct pri *pri, void *buf, int buflen)
{
	int fd = pri_fd(pri);
	ssize_t n = recv(fd, buf, buflen - 2, MSG_DONTWAIT);
	if (n <= 0) {
		return n < 0 ? -1 : 0;
	}
	memset((char *) buf + n, 0, 2);
	return (int) n + 2;
}

static int write_frame(struct pri *pri, void *buf, int buflen)
{
	int fd = pri_fd(pri);
	if (buflen < 2) {
		return buflen;
	}
	if (send(fd, buf, buflen - 2, 0) < 0) {
		fprintf(stderr, "libpri_peer: send: %s\n", strerror(errno));
		return -1;
	}
	return buflen;
}

static void print_message(struct pri *pri, char *text)
{
	(void) pri;
	fprintf(stderr, "libpri: %s", text);
}

static void print_error(struct pri *pri, char *text)
{
	(void) pri;
	fprintf(stderr, "libpri ERROR: %s", text);
}

static void report(struct pri *pri, pri_event *e)
{
	switch (e->e) {
	case PRI_EVENT_DCHAN_UP:
		printf("event dchan_up\n");
		break;
	case PRI_EVENT_DCHAN_DOWN:
		printf("event dchan_down\n");
		break;
	case PRI_EVENT_RESTART:
		printf("event restart channel=%d\n", e->restart.channel);
		break;
	case PRI_EVENT_RESTART_ACK:
		printf("event restart_ack channel=%d\n", e->restartack.channel);
		break;
	case PRI_EVENT_RING:
		printf("event ring id=%d channel=%d flexible=%d called=%s calling=%s callingplan=%d callingpres=%d cref=%d complete=%d layer1=%d\n",
			call_id(e->ring.call), e->ring.channel & 0xff, e->ring.flexible,
			e->ring.callednum[0] ? e->ring.callednum : "-",
			e->ring.callingnum[0] ? e->ring.callingnum : "-",
			e->ring.callingplan, e->ring.callingpres, e->ring.cref, e->ring.complete,
			e->ring.layer1);
		break;
	case PRI_EVENT_PROCEEDING:
		printf("event proceeding id=%d channel=%d\n", call_id(e->proceeding.call), e->proceeding.channel & 0xff);
		break;
	case PRI_EVENT_SETUP_ACK:
		printf("event setup_ack id=%d channel=%d\n", call_id(e->setup_ack.call), e->setup_ack.channel & 0xff);
		break;
	case PRI_EVENT_RINGING:
		printf("event ringing id=%d channel=%d\n", call_id(e->ringing.call), e->ringing.channel & 0xff);
		break;
	case PRI_EVENT_PROGRESS:
		printf("event progress id=%d channel=%d\n", call_id(e->proceeding.call), e->proceeding.channel & 0xff);
		break;
	case PRI_EVENT_ANSWER:
		printf("event answer id=%d channel=%d\n", call_id(e->answer.call), e->answer.channel & 0xff);
		break;
	case PRI_EVENT_CONNECT_ACK:
		printf("event connect_ack id=%d channel=%d\n", call_id(e->connect_ack.call), e->connect_ack.channel & 0xff);
		break;
	case PRI_EVENT_HANGUP_REQ:
		printf("event hangup_req id=%d cause=%d channel=%d\n", call_id(e->hangup.call), e->hangup.cause, e->hangup.channel & 0xff);
		break;
	case PRI_EVENT_HANGUP:
		printf("event hangup id=%d cause=%d channel=%d\n", call_id(e->hangup.call), e->hangup.cause, e->hangup.channel & 0xff);
		/* The call is gone on the line; let libpri free it, as chan_dahdi does. */
		pri_hangup(pri, e->hangup.call, e->hangup.cause);
		forget_call(e->hangup.call);
		break;
	case PRI_EVENT_HANGUP_ACK:
		printf("event hangup_ack id=%d cause=%d\n", call_id(e->hangup.call), e->hangup.cause);
		forget_call(e->hangup.call);
		break;
	case PRI_EVENT_INFO_RECEIVED:
		printf("event info id=%d digits=%s\n", call_id(e->ring.call), e->ring.callednum[0] ? e->ring.callednum : "-");
		break;
	case PRI_EVENT_CONFIG_ERR:
		printf("event config_err text=%s\n", e->err.err);
		break;
	default:
		printf("event other e=%d\n", e->e);
		break;
	}
}

static void run_timers(struct pri *pri)
{
	struct timeval *next;
	pri_event *e;
	int guard = 0;

	while ((next = pri_schedule_next(pri)) && guard++ < 10000) {
		if (timercmp(next, &virtual_now, >)) {
			break;
		}
		e = pri_schedule_run(pri);   /* reads the virtual clock */
		if (e) {
			report(pri, e);
		}
	}
}

static void poll_frames(struct pri *pri)
{
	char probe[1];
	pri_event *e;

	while (recv(pri_fd(pri), probe, sizeof(probe), MSG_DONTWAIT | MSG_PEEK) >= 0) {
		e = pri_check_event(pri);
		if (e) {
			report(pri, e);
		}
	}
}

static int timer_number(const char *name)
{
	static const struct { const char *name; int number; } timers[] = {
		{ "T200", PRI_TIMER_T200 }, { "T203", PRI_TIMER_T203 }, { "T303", PRI_TIMER_T303 },
		{ "T305", PRI_TIMER_T305 }, { "T308", PRI_TIMER_T308 }, { "T309", PRI_TIMER_T309 },
		{ "T310", PRI_TIMER_T310 }, { "T313", PRI_TIMER_T313 }, { "N200", PRI_TIMER_N200 },
	};
	size_t i;
	for (i = 0; i < sizeof(timers) / sizeof(timers[0]); ++i) {
		if (!strcmp(name, timers[i].name)) {
			return timers[i].number;
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct pri *pri;
	char line[512];
	int node, switchtype, fd, law;

	if (argc != 4) {
		fprintf(stderr, "usage: %s network|cpe euroisdn|ni2 FD\n", argv[0]);
		return 2;
	}
	node = !strcmp(argv[1], "network") ? PRI_NETWORK : PRI_CPE;
	switchtype = !strcmp(argv[2], "ni2") ? PRI_SWITCH_NI2 : PRI_SWITCH_EUROISDN_E1;
	law = switchtype == PRI_SWITCH_NI2 ? PRI_LAYER_1_ULAW : PRI_LAYER_1_ALAW;
	fd = atoi(argv[3]);
	setvbuf(stdout, NULL, _IOLBF, 0);

	pri_set_message(print_message);
	pri_set_error(print_error);
	pri = pri_new_cb(fd, node, switchtype, read_frame, write_frame, NULL);
	if (!pri) {
		fprintf(stderr, "pri_new_cb failed\n");
		return 1;
	}
	if (getenv("LIBPRI_DEBUG")) {
		pri_set_debug(pri, PRI_DEBUG_Q921_STATE | PRI_DEBUG_Q931_STATE | PRI_DEBUG_Q931_ANOMALY | PRI_DEBUG_Q931_DUMP);
	}
	printf("ok\n");

	while (fgets(line, sizeof(line), stdin)) {
		char cmd[32] = "", a[128] = "", b[128] = "", c[128] = "", d[128] = "";
		int n = sscanf(line, "%31s %127s %127s %127s %127s", cmd, a, b, c, d);
		q931_call *call;

		if (n <= 0) {
			continue;
		}
		if (!strcmp(cmd, "time")) {
			long ms = atol(a);
			virtual_now.tv_sec = BASE_SEC + ms / 1000;
			virtual_now.tv_usec = (ms % 1000) * 1000;
			run_timers(pri);
		} else if (!strcmp(cmd, "next")) {
			struct timeval *next = pri_schedule_next(pri);
			if (next) {
				printf("next %ld\n", (long) (next->tv_sec - BASE_SEC) * 1000 + next->tv_usec / 1000);
			} else {
				printf("next -1\n");
			}
		} else if (!strcmp(cmd, "poll")) {
			poll_frames(pri);
			run_timers(pri);
		} else if (!strcmp(cmd, "timer")) {
			if (pri_set_timer(pri, timer_number(a), atoi(b))) {
				printf("error timer %s\n", a);
			}
		} else if (!strcmp(cmd, "call") && n == 5) {
			struct pri_sr *sr = pri_sr_new();
			call = pri_new_call(pri);
			pri_sr_set_channel(sr, atoi(a), atoi(b), 0);
			pri_sr_set_bearer(sr, PRI_TRANS_CAP_SPEECH, law);
			pri_sr_set_called(sr, c, PRI_UNKNOWN, 1);
			pri_sr_set_caller(sr, d, NULL, PRI_UNKNOWN, PRES_ALLOWED_USER_NUMBER_NOT_SCREENED);
			if (pri_setup(pri, call, sr)) {
				printf("error call\n");
			} else {
				printf("call %d\n", call_id(call));
			}
			pri_sr_free(sr);
		} else if (!strcmp(cmd, "proceed") && (call = find_call(atoi(a)))) {
			pri_proceeding(pri, call, 0, 0);
		} else if (!strcmp(cmd, "alert") && (call = find_call(atoi(a)))) {
			pri_acknowledge(pri, call, 0, 0);
		} else if (!strcmp(cmd, "answer") && (call = find_call(atoi(a)))) {
			pri_answer(pri, call, 0, 0);
		} else if (!strcmp(cmd, "connect_ack") && (call = find_call(atoi(a)))) {
			pri_connect_ack(pri, call, 0);
		} else if (!strcmp(cmd, "hangup") && (call = find_call(atoi(a)))) {
			pri_hangup(pri, call, atoi(b));
		} else if (!strcmp(cmd, "restart")) {
			pri_restart(pri);
		} else if (!strcmp(cmd, "reset")) {
			pri_reset(pri, atoi(a));
		} else {
			printf("error unknown command %s\n", cmd);
		}
		printf("ok\n");
	}
	return 0;
}
