quote = "say \"hi\""
backslash = "C:\\vault\\data"
unicode = "héllo wörld ☃"
spaces = "  padded  "
empty = ""
interp = "${env.HOME}/vault"
interp_quotes = "${lookup("a", "b")}"
multi = "line one
line two"
"quoted key" = "v"
"key with.dots" = 1
