"""The stack on a target: `deploy` plans then applies the declaration, `remove` deletes it and lists what remains,
`stack.describe_stack` finds a deployed stack from its names alone. Above the declaration, which is above the kinds."""
