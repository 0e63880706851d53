"""Transforms a SAM template into CloudFormation offline and prints it as JSON.

Usage: python3 sam_transform.py template.yaml [Key=Value ...]

The managed-policy loader normally asks IAM for the ARNs of AWS managed
policies; Rapport's functions bring their own roles, so a loader that knows a
few well-known names is enough and no AWS account is needed.
"""

import json
import os
import sys

# The translator fills AWS::Region from a boto3 session; any region will do.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class OfflinePolicyLoader:
    def load(self):
        names = [
            "AWSLambdaBasicExecutionRole",
            "AWSXrayWriteOnlyAccess",
            "AWSLambdaDynamoDBExecutionRole",
        ]
        return {n: "arn:aws:iam::aws:policy/service-role/" + n for n in names}


def package(template):
    """Does what `sam package` does before the transform runs in CloudFormation:
    local CodeUri paths become S3 locations."""
    sections = [template.get("Globals", {}).get("Function", {})]
    sections += [r.get("Properties", {}) for r in template.get("Resources", {}).values()
                 if r.get("Type") == "AWS::Serverless::Function"]
    for props in sections:
        if isinstance(props.get("CodeUri"), str) and not props["CodeUri"].startswith("s3://"):
            props["CodeUri"] = "s3://rapport-artifacts/code.zip"


def main():
    with open(sys.argv[1]) as f:
        template = yaml_parse(f.read())
    params = dict(arg.split("=", 1) for arg in sys.argv[2:])
    package(template)
    out = transform(template, params, OfflinePolicyLoader())
    json.dump(out, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
