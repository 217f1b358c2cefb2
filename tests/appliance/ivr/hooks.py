"""An ISV entry point used by the IVR tests (referenced from their YAML)."""


def balance(variables: dict[str, str]) -> dict[str, str]:
    if variables.get("account") == "0000":
        raise LookupError("account closed")
    return {"balance": str(len(variables.get("account", "")) * 100)}
