package targets

import (
	"path/filepath"
	"testing"
)

func TestLocate(t *testing.T) {
	root := t.TempDir()
	ws := filepath.Join(root, "repo", "ws")
	home := filepath.Join(root, "home")
	write(t, filepath.Join(ws, "Cargo.toml"), "")
	for _, tc := range []struct {
		name  string
		env   map[string]string
		files map[string]string
		want  string
	}{
		{name: "default", want: filepath.Join(ws, "target")},
		{name: "CARGO_TARGET_DIR relative", env: map[string]string{"CARGO_TARGET_DIR": "out"}, want: filepath.Join(ws, "out")},
		{name: "CARGO_TARGET_DIR wins", env: map[string]string{"CARGO_TARGET_DIR": "/abs/t", "CARGO_BUILD_TARGET_DIR": "b"},
			files: map[string]string{"repo/ws/.cargo/config.toml": "[build]\ntarget-dir = \"c\"\n"}, want: "/abs/t"},
		{name: "CARGO_BUILD_TARGET_DIR", env: map[string]string{"CARGO_BUILD_TARGET_DIR": "b"}, want: filepath.Join(ws, "b")},
		{name: "config in the workspace", files: map[string]string{"repo/ws/.cargo/config.toml": "[build]\ntarget-dir = \"c\"\n"}, want: filepath.Join(ws, "c")},
		{name: "nearest config wins, relative to its parent", files: map[string]string{
			"repo/.cargo/config.toml":    "[build]\ntarget-dir = \"outer\"\n",
			"repo/ws/.cargo/config.toml": "[net]\noffline = true\n",
		}, want: filepath.Join(root, "repo", "outer")},
		{name: "legacy config name", files: map[string]string{"repo/ws/.cargo/config": "build.target-dir = \"legacy\"\n"}, want: filepath.Join(ws, "legacy")},
		{name: "CARGO_HOME config", env: map[string]string{"CARGO_HOME": home}, files: map[string]string{"home/config.toml": "[build]\ntarget-dir = \"h\"\n"}, want: filepath.Join(home, "h")},
		{name: "HOME config", env: map[string]string{"HOME": root}, files: map[string]string{".cargo/config.toml": "[build]\ntarget-dir = \"/x/y\"\n"}, want: "/x/y"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			// Each case gets its own copy of the layout.
			r := filepath.Join(dir, "r")
			w := filepath.Join(r, "repo", "ws")
			write(t, filepath.Join(w, "Cargo.toml"), "")
			for f, c := range tc.files {
				write(t, filepath.Join(r, f), c)
			}
			env := map[string]string{}
			for k, v := range tc.env {
				env[k] = rebase(v, root, r)
			}
			got, err := Locate(func(k string) string { return env[k] }, w)
			if err != nil {
				t.Fatal(err)
			}
			if want := rebase(tc.want, root, r); got != want {
				t.Errorf("Locate = %q, want %q", got, want)
			}
		})
	}
	write(t, filepath.Join(ws, ".cargo", "config.toml"), "[build\n")
	if _, err := Locate(func(string) string { return "" }, ws); err == nil {
		t.Error("Locate with a malformed config: no error")
	}
}

// rebase moves a path under old to the same place under new.
func rebase(p, old, new string) string {
	if rel, err := filepath.Rel(old, p); err == nil && filepath.IsAbs(p) && rel[0] != '.' {
		return filepath.Join(new, rel)
	}
	return p
}
