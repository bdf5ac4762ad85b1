storage "rocksdb" {
	description = <<-DESC
		first line
			second line with extra tab
		third line
		DESC
	path = "/tmp/x"
}
