# scale: set a resource to a count, or change it by a delta.
# Patterns per locale live in commands/LOCALE/scale.cmd.
intent scale
risk   mutating
help   help.scale
slot   target resource
slot   count count
slot   delta delta
