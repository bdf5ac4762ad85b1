outer {
  inner "a" { x = 1 }
  inner "b" { y = 2 }
  key = 1
  key = 2
  key = 3
  solo { z = 3 }
}
