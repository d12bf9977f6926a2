package bootstrap

import (
	"context"
	"crypto/sha256"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/org/rustcache-action/internal/testkit"
)

// TestReleaseBuild cross-compiles the program for every target through the
// release workflow's own build script, and checks each binary is an
// executable for its platform, SHA256SUMS lists exactly the binaries
// bootstrap.sh asks for, and the version is stamped.
func TestReleaseBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles the program eight times")
	}
	if runtime.GOOS == "windows" {
		t.Skip("the build script runs on Linux and macOS")
	}
	testkit.NeedTool(t, "bash")
	testkit.NeedTool(t, "go")
	out := t.TempDir()
	const version = "v0.0.0-test.1"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(repoRoot(t), ".github", "scripts", "build-release.sh"), version, out)
	if log, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build-release.sh: %v\n%s", err, log)
	}

	sums, err := os.ReadFile(filepath.Join(out, SumsFile))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		f := strings.Fields(l)
		if len(f) != 2 {
			t.Fatalf("malformed %s line %q", SumsFile, l)
		}
		listed[strings.TrimPrefix(f[1], "*")] = f[0]
	}
	var want []string
	for _, tg := range Targets {
		want = append(want, AssetName(tg))
	}
	got := make([]string, 0, len(listed))
	for n := range listed {
		got = append(got, n)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s lists %v, want %v", SumsFile, got, want)
	}

	for _, tg := range Targets {
		p := filepath.Join(out, AssetName(tg))
		b, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("%s: %v", tg, err)
			continue
		}
		s := sha256.Sum256(b)
		if hex.EncodeToString(s[:]) != listed[AssetName(tg)] {
			t.Errorf("%s: checksum differs from %s", tg, SumsFile)
		}
		if err := checkFormat(p, tg); err != nil {
			t.Errorf("%s: %v", tg, err)
		}
		if tg.GOOS == runtime.GOOS && tg.GOARCH == runtime.GOARCH {
			v, err := exec.Command(p, "version").Output()
			if err != nil || strings.TrimSpace(string(v)) != "rustcache-action "+version {
				t.Errorf("%s version printed %q (%v), want the stamped %s", tg, v, err, version)
			}
		}
	}
}

// checkFormat checks that the file at p is an executable for t.
func checkFormat(p string, t Target) error {
	type check struct {
		ok   bool
		what string
	}
	var c check
	switch t.GOOS {
	case "linux":
		f, err := elf.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		machine := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "arm": elf.EM_ARM, "386": elf.EM_386}[t.GOARCH]
		var interp bool
		for _, prog := range f.Progs {
			interp = interp || prog.Type == elf.PT_INTERP
		}
		c = check{f.Machine == machine && f.Type == elf.ET_EXEC && !interp, f.Machine.String() + " " + f.Type.String()}
		if interp {
			c.what += " with a dynamic loader (CGO_ENABLED=0 must give a static binary)"
		}
	case "darwin":
		f, err := macho.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		cpu := map[string]macho.Cpu{"amd64": macho.CpuAmd64, "arm64": macho.CpuArm64}[t.GOARCH]
		c = check{f.Cpu == cpu && f.Type == macho.TypeExec, f.Cpu.String()}
	case "windows":
		f, err := pe.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		machine := map[string]uint16{"amd64": pe.IMAGE_FILE_MACHINE_AMD64, "arm64": pe.IMAGE_FILE_MACHINE_ARM64}[t.GOARCH]
		c = check{f.Machine == machine && f.Characteristics&pe.IMAGE_FILE_EXECUTABLE_IMAGE != 0, "machine " + hex.EncodeToString([]byte{byte(f.Machine >> 8), byte(f.Machine)})}
	default:
		return nil
	}
	if !c.ok {
		return &formatError{t, c.what}
	}
	return nil
}

type formatError struct {
	t    Target
	what string
}

func (e *formatError) Error() string { return "not a " + e.t.String() + " executable: " + e.what }

// TestReleaseWorkflowBuildsThroughScript keeps release.yml, CI and the
// tests on one build recipe.
func TestReleaseWorkflowBuildsThroughScript(t *testing.T) {
	for _, wf := range []string{"release.yml", "ci.yml"} {
		b, err := os.ReadFile(filepath.Join(repoRoot(t), ".github", "workflows", wf))
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`\.github/scripts/build-release\.sh \S+ dist`).Match(b) {
			t.Errorf("%s does not build through .github/scripts/build-release.sh", wf)
		}
	}
}
