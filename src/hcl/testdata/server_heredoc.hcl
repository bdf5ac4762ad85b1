license = <<EOF
line one
  line two indented

line four after blank
EOF
after = "value"
trailing_marker = <<EOF
text then marker on same lineEOF
last = <<EOF
  indented marker is not a plain close
  EOF
