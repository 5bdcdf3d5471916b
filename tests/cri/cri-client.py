#!/usr/bin/python3
"""A minimal CRI v1 client for runk's pod tests: crictl's few verbs the tests
need, over containerd's (or CRI-O's) socket, with no codegen plugin.

The messages come from tests/cri/cri.proto, compiled by protoc into a cache
dir on first use; calls go through grpc's generic unary_unary with the
method's full name.  Configs are JSON files in protobuf's JSON mapping (field
names as in the .proto or in lowerCamelCase); replies are printed as JSON with
the .proto's field names.

Usage: cri-client.py --socket PATH [--timeout SECONDS] VERB ARGS...
  version                       runtime name and versions
  runp POD.json [--handler H]   RunPodSandbox; prints the sandbox id
  pod ID                        PodSandboxStatus (verbose)
  stopp ID | rmp ID             StopPodSandbox | RemovePodSandbox
  create POD_ID CTR.json POD.json   CreateContainer; prints the container id
  start ID | rm ID              StartContainer | RemoveContainer
  stop ID [GRACE]               StopContainer with GRACE seconds (default 0)
  inspect ID                    ContainerStatus (verbose)
  ps [POD_ID]                   ListContainers, of one pod or all
  update ID RESOURCES.json      UpdateContainerResources (linux)
  exec ID [--timeout N] CMD...  ExecSync: the command's stdout and stderr
                                are written out, its exit code is ours
  up POD.json [--handler H] CTR.json...
                                RunPodSandbox, then CreateContainer and
                                StartContainer for each CTR; prints
                                {"pod", "containers", "seconds"}: the time
                                from RunPodSandbox to the last start's answer
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.join(HERE, "cri.proto")


def load_messages():
    """Compile cri.proto with protoc (once per content) and import it."""
    with open(PROTO, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    cache = os.path.join(os.environ.get("TMPDIR", "/tmp"), "runk-cri-pb-" + digest)
    if not os.path.exists(os.path.join(cache, "cri_pb2.py")):
        tmp = "%s.%d" % (cache, os.getpid())
        os.makedirs(tmp, exist_ok=True)
        subprocess.run(["protoc", "-I", HERE, "--python_out", tmp, PROTO], check=True)
        try:
            os.rename(tmp, cache)
        except OSError:  # another client compiled it first
            subprocess.run(["rm", "-rf", tmp], check=False)
    sys.path.insert(0, cache)
    import cri_pb2  # noqa: E402  (generated above)

    return cri_pb2


pb = load_messages()

import grpc  # noqa: E402
from google.protobuf import json_format  # noqa: E402


class Runtime:
    def __init__(self, socket, timeout):
        self.channel = grpc.insecure_channel("unix://" + socket)
        self.timeout = timeout

    def call(self, method, request, reply_type):
        rpc = self.channel.unary_unary(
            "/runtime.v1.RuntimeService/" + method,
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=reply_type.FromString,
        )
        return rpc(request, timeout=self.timeout)


def read_json(path, message):
    with open(path) as f:
        return json_format.ParseDict(json.load(f), message)


def show(message):
    print(json_format.MessageToJson(message, preserving_proto_field_name=True, indent=1))


def main():
    ap = argparse.ArgumentParser(description="a minimal CRI v1 client")
    ap.add_argument("--socket", required=True)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("verb")
    ap.add_argument("args", nargs=argparse.REMAINDER)
    o = ap.parse_args()
    rt = Runtime(o.socket, o.timeout)
    a = o.args

    if o.verb == "version":
        show(rt.call("Version", pb.VersionRequest(version="v1"), pb.VersionResponse))
    elif o.verb == "runp":
        handler = ""
        if len(a) == 3 and a[1] == "--handler":
            handler = a[2]
        req = pb.RunPodSandboxRequest(config=read_json(a[0], pb.PodSandboxConfig()),
                                      runtime_handler=handler)
        print(rt.call("RunPodSandbox", req, pb.RunPodSandboxResponse).pod_sandbox_id)
    elif o.verb == "pod":
        show(rt.call("PodSandboxStatus", pb.PodSandboxStatusRequest(pod_sandbox_id=a[0], verbose=True),
                     pb.PodSandboxStatusResponse))
    elif o.verb == "stopp":
        rt.call("StopPodSandbox", pb.StopPodSandboxRequest(pod_sandbox_id=a[0]), pb.StopPodSandboxResponse)
    elif o.verb == "rmp":
        rt.call("RemovePodSandbox", pb.RemovePodSandboxRequest(pod_sandbox_id=a[0]),
                pb.RemovePodSandboxResponse)
    elif o.verb == "create":
        req = pb.CreateContainerRequest(pod_sandbox_id=a[0],
                                        config=read_json(a[1], pb.ContainerConfig()),
                                        sandbox_config=read_json(a[2], pb.PodSandboxConfig()))
        print(rt.call("CreateContainer", req, pb.CreateContainerResponse).container_id)
    elif o.verb == "start":
        rt.call("StartContainer", pb.StartContainerRequest(container_id=a[0]), pb.StartContainerResponse)
    elif o.verb == "stop":
        grace = int(a[1]) if len(a) > 1 else 0
        rt.call("StopContainer", pb.StopContainerRequest(container_id=a[0], timeout=grace),
                pb.StopContainerResponse)
    elif o.verb == "rm":
        rt.call("RemoveContainer", pb.RemoveContainerRequest(container_id=a[0]), pb.RemoveContainerResponse)
    elif o.verb == "inspect":
        show(rt.call("ContainerStatus", pb.ContainerStatusRequest(container_id=a[0], verbose=True),
                     pb.ContainerStatusResponse))
    elif o.verb == "ps":
        flt = pb.ContainerFilter(pod_sandbox_id=a[0]) if a else pb.ContainerFilter()
        show(rt.call("ListContainers", pb.ListContainersRequest(filter=flt), pb.ListContainersResponse))
    elif o.verb == "update":
        req = pb.UpdateContainerResourcesRequest(container_id=a[0],
                                                 linux=read_json(a[1], pb.LinuxContainerResources()))
        rt.call("UpdateContainerResources", req, pb.UpdateContainerResourcesResponse)
    elif o.verb == "exec":
        cid, rest, limit = a[0], a[1:], 0
        if len(rest) >= 2 and rest[0] == "--timeout":
            limit, rest = int(rest[1]), rest[2:]
        if rest and rest[0] == "--":
            rest = rest[1:]
        r = rt.call("ExecSync", pb.ExecSyncRequest(container_id=cid, cmd=rest, timeout=limit),
                    pb.ExecSyncResponse)
        sys.stdout.buffer.write(r.stdout)
        sys.stderr.buffer.write(r.stderr)
        sys.exit(r.exit_code)
    elif o.verb == "up":
        handler = ""
        if len(a) >= 3 and a[1] == "--handler":
            handler, a = a[2], a[:1] + a[3:]
        pod_config = read_json(a[0], pb.PodSandboxConfig())
        configs = [read_json(c, pb.ContainerConfig()) for c in a[1:]]
        start = time.monotonic()
        pod = rt.call("RunPodSandbox", pb.RunPodSandboxRequest(config=pod_config, runtime_handler=handler),
                      pb.RunPodSandboxResponse).pod_sandbox_id
        ids = []
        for config in configs:
            req = pb.CreateContainerRequest(pod_sandbox_id=pod, config=config, sandbox_config=pod_config)
            ids.append(rt.call("CreateContainer", req, pb.CreateContainerResponse).container_id)
            rt.call("StartContainer", pb.StartContainerRequest(container_id=ids[-1]), pb.StartContainerResponse)
        print(json.dumps({"pod": pod, "containers": ids, "seconds": time.monotonic() - start}))
    else:
        ap.error("unknown verb %s" % o.verb)


if __name__ == "__main__":
    try:
        main()
    except grpc.RpcError as e:
        sys.stderr.write("cri-client: %s: %s\n" % (e.code().name, e.details()))
        sys.exit(2)
