package setup

import (
	"hash/fnv"
	"io"
	"net"
	"strconv"
	"time"
)

// Server ports come in pairs, an even host port and the next odd one for
// containers, from portBase up to portBase+2*portSlots-1 (20000–31999): below
// the ranges operating systems pick the local ports of outgoing connections
// from (Linux 32768–60999, macOS and Windows 49152–65535). A port in such a
// range can be held at any moment by another program's connection; sccache
// then cannot start its server there (the bind fails, nobody answers) and
// fails the compile with "Connection to server timed out" — and cross, whose
// host-side `cargo metadata` runs rustc through RUSTC_WRAPPER, then builds on
// the host instead of in its container, where every compile hashes
// differently from the container's.
const (
	portBase  = 20000
	portSlots = 6000
	// portTries is how many slots setup probes, from the one the root
	// hashes to, before it settles for that one.
	portTries = 32
)

// portState is what a probe found on a port of 127.0.0.1.
type portState int

const (
	portFree      portState = iota // nothing holds it
	portListening                  // a server answers there
	portHeld                       // bound by something that does not answer (a connection's local port)
)

// probeTCP finds out whether a port of 127.0.0.1 is free, answered, or held.
func probeTCP(port int) portState {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	l, err := net.Listen("tcp", addr)
	if err == nil {
		l.Close()
		return portFree
	}
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return portHeld
	}
	c.Close()
	return portListening
}

// choosePorts picks this job's ports. A port the user set in
// SCCACHE_SERVER_PORT is used as it is. Otherwise the host port an earlier
// setup of the same root recorded (prev) is kept unless something that does
// not answer holds it (a server there is this root's own, which setup stops
// anyway); then the slots from the one the root hashes to are probed, and the
// first whose two ports are free is taken: a server answering there belongs
// to another configuration (another job's root on a shared machine), and
// stopping it would break that job's build. When no probed slot is free, the
// root's own slot is used. moved reports that the root's own slot was
// passed over.
func choosePorts(root string, prev int, userPort string, probe func(int) portState) (p ports, moved bool) {
	if n, err := strconv.Atoi(userPort); err == nil && n > 0 && n < 65535 {
		return ports{host: n, container: n + 1}, false
	}
	if inRange(prev) && probe(prev) != portHeld && probe(prev+1) != portHeld {
		return ports{host: prev, container: prev + 1}, false
	}
	h := fnv.New32a()
	io.WriteString(h, root)
	slot := int(h.Sum32() % portSlots)
	for i := range portTries {
		host := portBase + (slot+i)%portSlots*2
		if probe(host) == portFree && probe(host+1) == portFree {
			return ports{host: host, container: host + 1}, i > 0
		}
	}
	host := portBase + slot*2
	return ports{host: host, container: host + 1}, false
}

// inRange reports whether port is a host port of the range setup uses.
func inRange(port int) bool {
	return port >= portBase && port < portBase+2*portSlots && port%2 == 0
}
