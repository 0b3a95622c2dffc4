#!/usr/bin/env python3
"""ami.cfn_user_data (CTest, label static): the user data of each instance in
ami/cloudformation/transit-hub-pair.yaml, with its !Sub variables filled in, is a cloud-config
that parses, writes what its instance needs (its own etcd member, the hub's user-data.yaml with
its own and its peer's addresses), and stays under EC2's 16 KB. cfn-lint does not look inside
user data. A copy with hub-b named hub-a in its etcd file must fail, so a pass means the checks
ran. Needs python3-yaml."""
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "ami/cloudformation/transit-hub-pair.yaml"
LIMIT = 16 * 1024  # EC2: user data is at most 16 KB before base64

# The longest values the variables can take, so the size check holds for any stack.
IP = {"EniA": "100.100.100.101", "EniB": "100.100.100.102", "EniWitness": "100.100.100.103"}
EIP = {"EipA": "100.100.200.201", "EipB": "100.100.200.202"}
ADMIN, READ = "a" * 64, "b" * 64
VALUES = {
    **{f"{eni}.PrimaryPrivateIpAddress": ip for eni, ip in IP.items()},
    **EIP,
    "HubAsn": "2147483647",
    "ApiPort": "65535",
    "AdminTokenSha256": ADMIN,
    "ReadTokenSha256": READ,
    "AWS::StackName": "s" * 128,
}
# Logical id -> (member name, interface, Elastic IP, peer's logical id or None)
INSTANCES = {
    "HubA": ("hub-a", "EniA", "EipA", "HubB"),
    "HubB": ("hub-b", "EniB", "EipB", "HubA"),
    "Witness": ("witness", "EniWitness", None, None),
}


class Loader(yaml.SafeLoader):
    pass


def _tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {("Ref" if suffix == "Ref" else "Fn::" + suffix): value}


Loader.add_multi_constructor("!", _tag)


def expand(sub, errors, where):
    def one(m):
        if m.group(1) not in VALUES:
            errors.append(f"{where}: no test value for ${{{m.group(1)}}}")
            return ""
        return VALUES[m.group(1)]

    return re.sub(r"\$\{([^}!]+)\}", one, sub)


def check(text):
    errors = []
    resources = yaml.load(text, Loader=Loader)["Resources"]
    for logical, (name, eni, eip, peer) in INSTANCES.items():
        where = f"{logical} user data"
        try:
            sub = resources[logical]["Properties"]["UserData"]["Fn::Base64"]["Fn::Sub"]
        except (KeyError, TypeError):
            errors.append(f"{where}: not Fn::Base64 of a plain !Sub string")
            continue
        data = expand(sub, errors, where)
        if len(data.encode()) > LIMIT:
            errors.append(f"{where}: {len(data.encode())} bytes, over EC2's {LIMIT}")
        if not data.startswith("#cloud-config\n"):
            errors.append(f"{where}: does not start with #cloud-config")
        try:
            cc = yaml.safe_load(data)
        except yaml.YAMLError as e:
            errors.append(f"{where}: not YAML: {e}")
            continue
        if cc.get("runcmd") != [["systemctl", "enable", "--now", "etcd.service"]]:
            errors.append(f"{where}: runcmd is {cc.get('runcmd')!r}, not enabling etcd.service")
        files = {f["path"]: f for f in cc.get("write_files", [])}
        want = {"/etc/default/etcd"} | ({"/etc/transit-hub/user-data.yaml"} if eip else set())
        if set(files) != want:
            errors.append(f"{where}: writes {sorted(files)}, expected {sorted(want)}")
            continue

        env = {}
        for line in files["/etc/default/etcd"]["content"].splitlines():
            if line.strip() and not line.startswith("#"):
                key, sep, value = line.partition("=")
                if not sep:
                    errors.append(f"{where}: /etc/default/etcd line {line!r} is not KEY=VALUE")
                env[key] = value
        me = IP[eni]
        cluster = f"hub-a=http://{IP['EniA']}:2380,hub-b=http://{IP['EniB']}:2380," \
                  f"witness=http://{IP['EniWitness']}:2380"
        expect_env = {
            "ETCD_NAME": name,
            "ETCD_LISTEN_PEER_URLS": f"http://{me}:2380",
            "ETCD_LISTEN_CLIENT_URLS": f"http://{me}:2379,http://127.0.0.1:2379",
            "ETCD_INITIAL_ADVERTISE_PEER_URLS": f"http://{me}:2380",
            "ETCD_ADVERTISE_CLIENT_URLS": f"http://{me}:2379",
            "ETCD_INITIAL_CLUSTER": cluster,
            "ETCD_INITIAL_CLUSTER_STATE": "new",
            "ETCD_PRE_VOTE": "true",
        }
        for key, value in expect_env.items():
            if env.get(key) != value:
                errors.append(f"{where}: /etc/default/etcd {key}={env.get(key)!r}, expected {value!r}")
        if not eip:
            continue

        hub_file = files["/etc/transit-hub/user-data.yaml"]
        if hub_file.get("permissions") != "0600":
            errors.append(f"{where}: user-data.yaml permissions {hub_file.get('permissions')!r}")
        try:
            hub = yaml.safe_load(hub_file["content"])
        except yaml.YAMLError as e:
            errors.append(f"{where}: user-data.yaml is not YAML: {e}")
            continue
        peer_name, peer_eni, peer_eip, _ = INSTANCES[peer]
        endpoints = [f"http://{IP[e]}:2379" for e in (eni, peer_eni, "EniWitness")]
        checks = {
            "hub": {"name": name, "asn": 2147483647, "public_ip": EIP[eip], "local_ip": me},
            "pair": {"peer": {"name": peer_name, "public_ip": EIP[peer_eip],
                              "local_ip": IP[peer_eni]}},
            "store": {"etcd": {"endpoints": endpoints}},
            "drivers": {"mode": "live", "tunnel_links": "xfrm"},
            "api": {"listen": ["0.0.0.0:65535"], "tls": "self-signed", "unauthenticated": [],
                    "tokens": [{"name": "admin", "role": "admin", "sha256": ADMIN},
                               {"name": "monitoring", "role": "read", "sha256": READ}]},
        }
        for key, value in checks.items():
            if hub.get(key) != value:
                errors.append(f"{where}: user-data.yaml {key} is {hub.get(key)!r}, expected {value!r}")
        if set(hub) != set(checks):
            errors.append(f"{where}: user-data.yaml keys {sorted(hub)}, expected {sorted(checks)}")
    return errors


def main():
    text = TEMPLATE.read_text()
    errors = check(text)
    if errors:
        print("FAIL: " + "\n      ".join(errors), file=sys.stderr)
        return 1
    # Negative check: hub-b's etcd member named hub-a must be caught.
    broken = text.replace("ETCD_NAME=hub-b", "ETCD_NAME=hub-a", 1)
    if broken == text or not any("HubB" in e and "ETCD_NAME" in e for e in check(broken)):
        print("FAIL: a copy with hub-b's etcd member named hub-a passed", file=sys.stderr)
        return 1
    print(f"ok: user data of {', '.join(INSTANCES)} in {TEMPLATE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
