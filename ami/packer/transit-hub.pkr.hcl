# The Transit Hub AMI: the official Debian 12 AMI plus ami/provision.sh and the transit-hub .deb.
# Written for Debian 12's packer 1.6.6 (HCL2 without `packer {}`/`data` blocks, no `packer init`).
#   packer validate ami/packer/transit-hub.pkr.hcl
#   packer build -var version=0.1.0 ami/packer/transit-hub.pkr.hcl
# AWS credentials come from the usual AWS environment variables or profile; the region is
# var.region.
# CTest ami.packer_validate validates this file offline.

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "instance_type" {
  type    = string
  default = "t3.small"
}

# The package to install. Empty: build/transit-hub_<version>_amd64.deb of this repository.
# The file provisioners check that their sources exist when the template is validated (and
# before `packer build` launches anything), so `packer validate` needs a real file too.
variable "deb" {
  type    = string
  default = ""
}

variable "version" {
  type    = string
  default = "0.1.0"
}

# Regions the finished AMI is copied to, besides var.region.
variable "ami_regions" {
  type    = list(string)
  default = []
}

variable "encrypt_boot" {
  type    = bool
  default = false
}

locals {
  deb = var.deb != "" ? var.deb : "${path.root}/../../build/transit-hub_${var.version}_amd64.deb"
}

source "amazon-ebs" "hub" {
  region        = var.region
  instance_type = var.instance_type
  ssh_username  = "admin"
  ami_name      = "transit-hub-${var.version}-${formatdate("YYYYMMDDhhmm", timestamp())}"
  ami_regions   = var.ami_regions
  encrypt_boot  = var.encrypt_boot
  ena_support   = true
  sriov_support = true
  # No imds_support: 1.6.6 rejects it. The AMI does not enforce IMDSv2; each instance does,
  # through MetadataOptions in ami/cloudformation/transit-hub-pair.yaml.

  source_ami_filter {
    filters = {
      # Release AMIs are named debian-12-amd64-YYYYMMDD-NNNN. 1.6.6 has no name_regex, so the
      # trailing 2 (every date starts with it) keeps out debian-12-amd64-daily-* and
      # debian-12-backports-amd64-*.
      name                = "debian-12-amd64-2*"
      architecture        = "x86_64"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = ["136693071363"] # Debian's official AMI account
    most_recent = true
  }

  tags = {
    Name     = "transit-hub"
    Version  = var.version
    Base_AMI = "{{ .SourceAMI }}"
  }
}

build {
  sources = ["source.amazon-ebs.hub"]

  provisioner "file" {
    source      = local.deb
    destination = "/tmp/transit-hub.deb"
  }

  provisioner "file" {
    source      = "${path.root}/../provision.sh"
    destination = "/tmp/provision.sh"
  }

  provisioner "shell" {
    execute_command = "chmod +x {{ .Path }}; sudo env {{ .Vars }} {{ .Path }}"
    inline          = ["bash /tmp/provision.sh /tmp/transit-hub.deb"]
  }

  # Every instance launched from the AMI runs cloud-init as a first boot, gets a new machine id,
  # and trusts only its own launch key, not the build's temporary one.
  provisioner "shell" {
    execute_command = "chmod +x {{ .Path }}; sudo env {{ .Vars }} {{ .Path }}"
    inline = [
      "rm -f /tmp/transit-hub.deb /tmp/provision.sh /home/admin/.ssh/authorized_keys",
      "cloud-init clean --logs --machine-id",
    ]
  }
}
