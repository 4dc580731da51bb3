#!/usr/bin/env python3
"""Seed a moto_server with the sample account the demo and the end-to-end tests use:
EC2 instances tagged web-1, web-2 and worker-1 in one region (eu-west-1 by default).
web-1 is tagged Environment=prod, web-2 Environment=staging; worker-1 has no environment
tag, so the policy treats its environment as unknown.

Usage: seed_moto.py ENDPOINT_URL [REGION]
Idempotent: instances whose Name already exists are not created again.
"""
import sys

import boto3

SAMPLE = ["web-1", "web-2", "worker-1"]
ENVIRONMENTS = {"web-1": "prod", "web-2": "staging"}


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    endpoint = sys.argv[1]
    region = sys.argv[2] if len(sys.argv) > 2 else "eu-west-1"
    ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=region,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    existing = set()
    for reservation in ec2.describe_instances()["Reservations"]:
        for instance in reservation["Instances"]:
            for tag in instance.get("Tags", []):
                if tag["Key"] == "Name" and instance["State"]["Name"] != "terminated":
                    existing.add(tag["Value"])
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    for name in SAMPLE:
        if name in existing:
            continue
        tags = [{"Key": "Name", "Value": name}]
        if name in ENVIRONMENTS:
            tags.append({"Key": "Environment", "Value": ENVIRONMENTS[name]})
        ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                          TagSpecifications=[{"ResourceType": "instance", "Tags": tags}])
    print("seeded " + ", ".join(SAMPLE) + " in " + region)
    return 0


if __name__ == "__main__":
    sys.exit(main())
