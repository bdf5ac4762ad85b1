banner = <<EOF
no end marker here
