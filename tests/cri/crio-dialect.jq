# A containerd CRI bundle's config.json rewritten as CRI-O (cgroupfs manager,
# pinned namespaces) writes the same pod's: CRI-O's annotations instead of
# containerd's, its paths, namespaces and mounts.  What varies from run to
# run becomes a placeholder for the replay (bats/pods-crio.bats):
#   @SANDBOX_ID@ @ID@   the pod sandbox's and this container's ids
#   @ROOTFS@            the container's root (CRI-O: its storage MountPoint)
#   @USERDATA@          the sandbox's run dir: hostname, resolv.conf, shm
#   @NS_DIR@ @PIN@      pinned namespaces, @NS_DIR@/{ipcns,utsns}/@PIN@
#   @SANDBOX_PID@       the infra container's PID (the pod's PID namespace)
#   @CGROUP_PARENT@ @LOG_DIR@ @HOSTNAME@
# Usage: jq --arg pause PAUSE_IMAGE -f crio-dialect.jq config.json
# Read from CRI-O's server/sandbox_run_linux.go, container_create_linux.go,
# internal/config/cgmgr/cgroupfs.go and pkg/annotations.

.annotations as $a
| ($a["io.kubernetes.cri.container-type"]) as $type
| ($a["io.kubernetes.cri.sandbox-name"]) as $pod
| ($a["io.kubernetes.cri.sandbox-namespace"]) as $ns
| ($a["io.kubernetes.cri.sandbox-uid"]) as $uid
| (if $type == "sandbox" then "POD" else $a["io.kubernetes.cri.container-name"] end) as $name
| ("k8s_POD_\($pod)_\($ns)_\($uid)_0") as $sandbox_name
| ("k8s_\($name)_\($pod)_\($ns)_\($uid)_0") as $kube_name
| (if $type == "sandbox" then "@SANDBOX_ID@" else "@ID@" end) as $id
# kubelet's labels, which CRI-O also copies to the annotations.
| {"io.kubernetes.container.name": $name, "io.kubernetes.pod.name": $pod,
   "io.kubernetes.pod.namespace": $ns, "io.kubernetes.pod.uid": $uid} as $labels
| (if $type == "sandbox" then {"kubernetes.io/config.source": "api"}
   else {"io.kubernetes.container.restartCount": "0",
         "io.kubernetes.container.terminationMessagePath": "/dev/termination-log",
         "io.kubernetes.container.terminationMessagePolicy": "File",
         "io.kubernetes.pod.terminationGracePeriod": "30"} end) as $kube
| {"io.kubernetes.cri-o.ContainerType": $type,
   "io.kubernetes.cri-o.SandboxID": "@SANDBOX_ID@",
   "io.kubernetes.cri-o.ContainerID": $id,
   "io.kubernetes.cri-o.Labels": ($labels | tojson),
   "io.kubernetes.cri-o.Annotations": ($kube | tojson),
   "io.kubernetes.cri-o.ResolvPath": "@USERDATA@/resolv.conf",
   "io.kubernetes.cri-o.Created": "2024-01-01T00:00:00.000000000Z",
   "io.kubernetes.cri-o.MountPoint": "@ROOTFS@",
   "io.kubernetes.cri-o.SeccompProfilePath": "",
   "io.container.manager": "cri-o"} as $common
| (if $type == "sandbox" then
     {"io.kubernetes.cri-o.Metadata": ({name: $pod, uid: $uid, namespace: $ns} | tojson),
      "io.kubernetes.cri-o.LogPath": "@LOG_DIR@/@SANDBOX_ID@.log",
      "io.kubernetes.cri-o.Name": $sandbox_name,
      "io.kubernetes.cri-o.SandboxName": $sandbox_name,
      "io.kubernetes.cri-o.ContainerName": $sandbox_name,
      "io.kubernetes.cri-o.Namespace": $ns,
      "io.kubernetes.cri-o.KubeName": $pod,
      "io.kubernetes.cri-o.Image": $pause,
      "io.kubernetes.cri-o.ImageName": $pause,
      "io.kubernetes.cri-o.ShmPath": "@USERDATA@/shm",
      "io.kubernetes.cri-o.HostnamePath": "@USERDATA@/hostname",
      "io.kubernetes.cri-o.HostName": "@HOSTNAME@",
      "io.kubernetes.cri-o.HostNetwork": "true",
      "io.kubernetes.cri-o.NamespaceOptions": ({network: 2} | tojson),
      "io.kubernetes.cri-o.PortMappings": "[]",
      "io.kubernetes.cri-o.CgroupParent": "@CGROUP_PARENT@",
      "io.kubernetes.cri-o.PrivilegedRuntime": "false",
      "io.kubernetes.cri-o.RuntimeHandler": "runk"}
   else
     {"io.kubernetes.cri-o.Metadata": ({name: $name} | tojson),
      "io.kubernetes.cri-o.LogPath": "@LOG_DIR@/\($name).log",
      "io.kubernetes.cri-o.Name": $kube_name,
      "io.kubernetes.cri-o.SandboxName": $sandbox_name,
      "io.kubernetes.cri-o.Image": $a["io.kubernetes.cri.image-name"],
      "io.kubernetes.cri-o.ImageName": $a["io.kubernetes.cri.image-name"],
      "io.kubernetes.cri-o.TTY": "false",
      "io.kubernetes.cri-o.Stdin": "false",
      "io.kubernetes.cri-o.StdinOnce": "false"}
   end) as $own
| .annotations = ($labels + $kube + $common + $own)
| .root.path = "@ROOTFS@"
| .hostname = "@HOSTNAME@"
| .linux.cgroupsPath = "@CGROUP_PARENT@/crio-\($id)"
# Pinned ipc and uts namespaces, no network namespace (the node's); the
# containers share the infra container's PID namespace by its /proc path.
| .linux.namespaces = [
    .linux.namespaces[]
    | select(.type != "network" and .type != "uts")
    | if .type == "ipc" then {type: "ipc", path: "@NS_DIR@/ipcns/@PIN@"}
      elif .type == "pid" and .path then {type: "pid", path: "/proc/@SANDBOX_PID@/ns/pid"}
      else . end
  ]
| .linux.namespaces |= (.[:(map(.type) | index("ipc")) + 1] + [{type: "uts", path: "@NS_DIR@/utsns/@PIN@"}]
                        + .[(map(.type) | index("ipc")) + 1:])
# The pod's files: CRI-O's run dir, and the node's /etc/hosts (host network).
| .mounts = [.mounts[] | select(.destination | IN("/dev/shm", "/etc/resolv.conf", "/etc/hostname", "/etc/hosts") | not)]
  + (if $type == "sandbox" then
       [{destination: "/dev/shm", type: "bind", source: "@USERDATA@/shm", options: ["rw", "bind"]},
        {destination: "/etc/resolv.conf", type: "bind", source: "@USERDATA@/resolv.conf",
         options: ["ro", "bind", "nodev", "nosuid", "noexec"]},
        {destination: "/etc/hostname", type: "bind", source: "@USERDATA@/hostname",
         options: ["ro", "bind", "nodev", "nosuid", "noexec"]}]
     else
       [{destination: "/dev/shm", type: "bind", source: "@USERDATA@/shm", options: ["rw", "bind"]},
        {destination: "/etc/resolv.conf", type: "bind", source: "@USERDATA@/resolv.conf", options: ["rw", "bind"]},
        {destination: "/etc/hostname", type: "bind", source: "@USERDATA@/hostname", options: ["rw", "bind"]},
        {destination: "/etc/hosts", type: "bind", source: "/etc/hosts", options: ["rw", "bind"]}]
     end)
| if $type == "sandbox" then
    .process.oomScoreAdj = -998
  else
    .process.env = [.process.env[] | select(startswith("HOSTNAME=") | not)] + ["HOSTNAME=@HOSTNAME@"]
    | .linux.resources.pids = {limit: 1024}
  end
