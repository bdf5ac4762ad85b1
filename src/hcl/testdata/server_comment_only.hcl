# nothing here but comments
/* and a block comment */
// and slashes
