#!/usr/bin/python3
"""A small CRI client (Kubernetes' runtime.v1 API over gRPC), for the tests: what a kubelet asks of
containerd when a pod names a RuntimeClass.  Debian 12 has no crictl; python3-grpcio speaks gRPC
and the few messages needed are encoded here by hand (protobuf wire format, field numbers from
the CRI's api.proto), so no generated code is needed.

    cri.py SOCKET version                 runtime name and version
    cri.py SOCKET config                  the CRI plugin's configuration (Status, verbose), JSON
    cri.py SOCKET runp POD.json           RunPodSandbox; prints the pod id
    cri.py SOCKET create POD POD.json IMAGE NAME [--seccomp-default] CMD...
                                          CreateContainer (log NAME.log in the pod's log
                                          directory; with the runtime's default seccomp
                                          profile); prints the container id
    cri.py SOCKET start CTR               StartContainer
    cri.py SOCKET wait CTR SECONDS        waits until CTR exits; prints "exited CODE REASON"
                                          (exit status 124 when it still runs after SECONDS)
    cri.py SOCKET exec CTR CMD...         ExecSync: CMD's stdout and stderr, and its exit status
    cri.py SOCKET rmp-all                 StopPodSandbox and RemovePodSandbox for every pod

POD.json: {"name", "uid", "namespace", "handler", "cgroup_parent", "log_directory"}; the pod uses
the node's network (no CNI needed) and its own pid namespace per container.

Errors from the runtime are printed as "cri.py: METHOD: CODE: DETAILS" with exit status 1: that
line is what a kubelet would show in the pod's events.
"""
import json
import sys
import time

import grpc

# ---- protobuf wire format -------------------------------------------------------------------


def varint(n):
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def f_varint(num, n):
    return varint(num << 3) + varint(n) if n else b""


def f_bytes(num, data):
    if isinstance(data, str):
        data = data.encode()
    return varint(num << 3 | 2) + varint(len(data)) + data


def f_str(num, s):
    return f_bytes(num, s) if s else b""


def f_strs(num, items):
    return b"".join(f_bytes(num, s) for s in items)


def f_map(num, d):
    return b"".join(f_bytes(num, f_str(1, k) + f_str(2, v)) for k, v in d.items())


def decode(data):
    """{field number: [values]}: ints for varints, bytes for length-delimited fields."""
    fields, i = {}, 0
    while i < len(data):
        key, i = read_varint(data, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            val, i = read_varint(data, i)
        elif wire == 2:
            n, i = read_varint(data, i)
            val, i = data[i:i + n], i + n
        elif wire == 1:
            val, i = data[i:i + 8], i + 8
        elif wire == 5:
            val, i = data[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wire)
        fields.setdefault(num, []).append(val)
    return fields


def read_varint(data, i):
    n = shift = 0
    while True:
        b = data[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def one(fields, num, default=b""):
    return fields.get(num, [default])[-1]


def text(fields, num):
    return one(fields, num).decode(errors="replace")


def as_map(fields, num):
    out = {}
    for entry in fields.get(num, []):
        kv = decode(entry)
        out[text(kv, 1)] = text(kv, 2)
    return out


# ---- the messages used ----------------------------------------------------------------------

NODE = 2       # NamespaceMode: the node's own namespace
CONTAINER = 1  # NamespaceMode: one for the container
EXITED = 2     # ContainerState


def pod_config(pod):
    metadata = f_str(1, pod["name"]) + f_str(2, pod["uid"]) + f_str(3, pod["namespace"])
    namespaces = f_varint(1, NODE) + f_varint(2, CONTAINER) + f_varint(3, NODE)
    security = f_bytes(1, namespaces)
    linux = f_str(1, pod.get("cgroup_parent", "")) + f_bytes(2, security)
    return (f_bytes(1, metadata) + f_str(3, pod["log_directory"]) + f_map(7, pod.get("annotations", {}))
            + f_bytes(8, linux))


class Client:
    def __init__(self, socket):
        self.channel = grpc.insecure_channel("unix:" + socket)

    def call(self, method, request):
        fn = self.channel.unary_unary("/runtime.v1.RuntimeService/" + method,
                                      request_serializer=None, response_deserializer=None)
        try:
            return decode(fn(request, timeout=120))
        except grpc.RpcError as e:
            print("cri.py: %s: %s: %s" % (method, e.code().name, e.details()), file=sys.stderr)
            sys.exit(1)


def main(argv):
    c, cmd, args = Client(argv[1]), argv[2], argv[3:]
    if cmd == "version":
        r = c.call("Version", f_str(1, "v1"))
        print(text(r, 2), text(r, 3), text(r, 4))
    elif cmd == "config":
        r = c.call("Status", f_varint(1, 1))
        print(as_map(r, 2).get("config", "{}"))
    elif cmd == "runp":
        pod = json.load(open(args[0]))
        r = c.call("RunPodSandbox", f_bytes(1, pod_config(pod)) + f_str(2, pod.get("handler", "")))
        print(text(r, 1))
    elif cmd == "create":
        pod_id, pod, image, name, command = args[0], json.load(open(args[1])), args[2], args[3], args[4:]
        config = (f_bytes(1, f_str(1, name)) + f_bytes(2, f_str(1, image)) + f_str(11, name + ".log"))
        if command[:1] == ["--seccomp-default"]:
            # linux.security_context.seccomp = {profile_type: RuntimeDefault (0)}: present, empty.
            command = command[1:]
            config += f_bytes(15, f_bytes(2, f_bytes(15, b"")))
        config += f_strs(3, command)
        r = c.call("CreateContainer", f_str(1, pod_id) + f_bytes(2, config) + f_bytes(3, pod_config(pod)))
        print(text(r, 1))
    elif cmd == "start":
        c.call("StartContainer", f_str(1, args[0]))
    elif cmd == "wait":
        deadline = time.monotonic() + float(args[1])
        while True:
            status = decode(one(c.call("ContainerStatus", f_str(1, args[0])), 1))
            if one(status, 3, 0) == EXITED:
                code = one(status, 7, 0)
                code = code - (1 << 64) if code >= 1 << 63 else code
                print("exited", code, text(status, 10), text(status, 11))
                return 0
            if time.monotonic() > deadline:
                print("running after %s s" % args[1])
                return 124
            time.sleep(0.1)
    elif cmd == "exec":
        r = c.call("ExecSync", f_str(1, args[0]) + f_strs(2, args[1:]) + f_varint(3, 60))
        sys.stdout.write(text(r, 1))
        sys.stderr.write(text(r, 2))
        return one(r, 3, 0) & 0xFF
    elif cmd == "rmp-all":
        for item in c.call("ListPodSandbox", b"").get(1, []):
            pod_id = text(decode(item), 1)
            c.call("StopPodSandbox", f_str(1, pod_id))
            c.call("RemovePodSandbox", f_str(1, pod_id))
    else:
        print("cri.py: unknown command " + cmd, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
