# The module a real runner (tofu/terraform) would plan; the fake runner reads
# plan-template.json beside it instead.
variable "region" { type = string }
variable "instance_type" { type = string }

provider "aws" { region = var.region }

resource "aws_instance" "web" {
  ami           = "ami-123"
  instance_type = var.instance_type

  root_block_device { encrypted = true }
  metadata_options { http_tokens = "required" }
}

output "url" { value = "https://sandbox.${var.region}.example.com" }
