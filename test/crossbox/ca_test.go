package crossbox

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCABundleReachesTheContainer: a cross image has no CA certificates of
// the runner; the entries setup adds with a remote backend (SSL_CERT_FILE
// passed through by name and listed in volumes) make the runner's bundle
// readable at the same path inside, where the build sees SSL_CERT_FILE. A
// build script stands in for sccache: it fails unless the bundle is there.
func TestCABundleReachesTheContainer(t *testing.T) {
	needSandbox(t)
	bundle := filepath.Join(t.TempDir(), "ca-certificates.crt")
	const pem = "-----BEGIN CERTIFICATE-----\nrunner CA\n-----END CERTIFICATE-----\n"
	if err := os.WriteFile(bundle, []byte(pem), 0o644); err != nil {
		t.Fatal(err)
	}
	crate := t.TempDir()
	for name, body := range map[string]string{
		"Cargo.toml": "[package]\nname = \"ca\"\nversion = \"0.1.0\"\nedition = \"2021\"\nbuild = \"build.rs\"\n",
		"src/lib.rs": "",
		"build.rs": `fn main() {
    let f = std::env::var("SSL_CERT_FILE").expect("SSL_CERT_FILE is not set inside");
    let b = std::fs::read_to_string(&f).expect("the CA bundle is not readable inside");
    assert!(b.contains("runner CA"), "another bundle at {f}");
}
`,
		"Cross.toml": "[build.env]\npassthrough = [\"SSL_CERT_FILE\", \"SSL_CERT_DIR\"]\nvolumes = [\"SSL_CERT_FILE\", \"SSL_CERT_DIR\"]\n",
	} {
		p := filepath.Join(crate, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := hostEnv(t, map[string]string{"SSL_CERT_FILE": bundle})
	if code, log := runCross(t, crate, env, "build"); code != 0 {
		t.Fatalf("cross build = %d\n%s", code, lastLines(log, 20))
	}
	// Without the entries the bundle is not there: the test can fail.
	os.WriteFile(filepath.Join(crate, "Cross.toml"), []byte("[build.env]\npassthrough = [\"SSL_CERT_FILE\"]\n"), 0o644)
	os.RemoveAll(filepath.Join(crate, "target"))
	if code, _ := runCross(t, crate, env, "build"); code == 0 {
		t.Errorf("the bundle was readable inside without the volume entry")
	}
}
