a.b.c = 1
with-dash = 2
_leading = 3
mixed_Case-9.x = 4
bare_value = some.identifier-value
block-name label.with.dots {
  x = y
}
