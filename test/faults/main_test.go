package faults_test

import (
	"flag"
	"fmt"
	"os"
	"testing"
)

// TestMain raises the number of subtests run at once unless -parallel was
// given: most cases spend their time waiting for a Retry-After or a
// deadline, not computing, so twice the cores' worth of them fit.
func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "test.parallel" {
			explicit = true
		}
	})
	if !explicit {
		_ = flag.Set("test.parallel", "8")
	}
	code := m.Run()
	if n := faultsInjected.Load() + badInputsTried.Load() + hostileTried.Load() + configFaultsTried.Load(); n > 0 {
		fmt.Printf("faults suite: %d service faults injected, %d bad inputs, %d hostile archives, %d malformed configurations or bad downloads\n",
			faultsInjected.Load(), badInputsTried.Load(), hostileTried.Load(), configFaultsTried.Load())
	}
	os.Exit(code)
}
