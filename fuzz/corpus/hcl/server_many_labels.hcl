resource "aws_instance" "web" {
  ami = "ami-123"
  tags = { Name = "web" }
}
resource "aws_instance" "db" {
  ami = "ami-456"
}
resource "aws_s3_bucket" "logs" {
  acl = "private"
}
