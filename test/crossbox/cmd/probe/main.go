// Command probe is a RUSTC_WRAPPER for the crossbox tests: cargo runs it
// inside the sandbox, it records what it sees there as JSON, and then runs the
// real compiler. Everything it does is driven by PROBE_* variables, which a
// test lists in the cross configuration's passthrough:
//
//	PROBE_OUT     report path prefix: the first invocation on each host name
//	              writes PROBE_OUT-<hostname>.json (cross runs cargo metadata,
//	              and so this wrapper, on the host too)
//	PROBE_WRITE   colon-separated directories to try creating a file in
//	PROBE_DIAL    host:port to try a TCP connection to
//	PROBE_LINGER  token: start a detached process carrying it that sleeps,
//	              to see whether it outlives the sandbox
package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Report is what the probe writes to PROBE_OUT.
type Report struct {
	UID, GID  int
	Cwd       string
	Hostname  string
	Env       map[string]string
	CargoBin  []string          // entries of /cargo/bin
	CargoBinE string            // error listing /cargo/bin
	Writes    map[string]string // dir → "ok" or the error
	Dial      string            // "ok" or the error
	LingerPID int
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "--linger" {
		linger(os.Args[2])
		return
	}
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "probe: usage: probe RUSTC [ARGS...]")
		os.Exit(2)
	}
	if out := os.Getenv("PROBE_OUT"); out != "" {
		host, _ := os.Hostname()
		if f, err := os.OpenFile(out+"-"+host+".json", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); err == nil {
			err := json.NewEncoder(f).Encode(inspect())
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "probe:", err)
				os.Exit(2)
			}
		}
	}
	rustc, err := exec.LookPath(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		os.Exit(2)
	}
	err = syscall.Exec(rustc, os.Args[1:], os.Environ())
	fmt.Fprintln(os.Stderr, "probe: exec:", err)
	os.Exit(2)
}

func inspect() Report {
	r := Report{UID: os.Getuid(), GID: os.Getgid(), Env: map[string]string{}, Writes: map[string]string{}}
	r.Cwd, _ = os.Getwd()
	r.Hostname, _ = os.Hostname()
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		r.Env[k] = v
	}
	entries, err := os.ReadDir("/cargo/bin")
	if err != nil {
		r.CargoBinE = err.Error()
	}
	r.CargoBin = []string{}
	for _, e := range entries {
		r.CargoBin = append(r.CargoBin, e.Name())
	}
	for _, d := range filepath.SplitList(os.Getenv("PROBE_WRITE")) {
		if d == "" {
			continue
		}
		if err := os.WriteFile(filepath.Join(d, "probe-wrote-this"), []byte("x"), 0o644); err != nil {
			r.Writes[d] = err.Error()
		} else {
			r.Writes[d] = "ok"
		}
	}
	if addr := os.Getenv("PROBE_DIAL"); addr != "" {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			r.Dial = err.Error()
		} else {
			r.Dial = "ok"
			c.Close()
		}
	}
	if tok := os.Getenv("PROBE_LINGER"); tok != "" {
		self, _ := os.Executable()
		cmd := exec.Command(self, "--linger", tok)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Start(); err == nil {
			r.LingerPID = cmd.Process.Pid
			_ = cmd.Process.Release()
		}
	}
	return r
}

// linger sleeps for at most a minute so a test can look for it on the host.
func linger(token string) {
	if m := os.Getenv("PROBE_LINGER_MARK"); m != "" {
		_ = os.WriteFile(m, []byte(token), 0o644)
	}
	time.Sleep(60 * time.Second)
}
