package backend

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/org/rustcache-action/internal/sccache"
)

// StatsDir is the directory, under the root, where the wrapper script leaves
// each server's statistics as <port>-<container id>.json.
const StatsDir = "stats"

// ServerStats sums the statistics the wrapper left under dir, skipping the
// files of port skipPort (the runner's own server, whose statistics the save
// step asks for directly). It returns how many servers it counted.
func ServerStats(dir string, skipPort int) (sccache.Stats, int, error) {
	var sum sccache.Stats
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return sum, 0, nil
	}
	if err != nil {
		return sum, 0, fmt.Errorf("read %q: %w", dir, err)
	}
	n := 0
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, fmt.Sprintf("%d-", skipPort)) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return sum, n, fmt.Errorf("read %q: %w", name, err)
		}
		st, err := sccache.ParseStats(b)
		if err != nil {
			continue // a file cut short by a container killed mid-write
		}
		sum.CompileRequests += st.CompileRequests
		sum.Hits += st.Hits
		sum.Misses += st.Misses
		sum.NotCacheable += st.NotCacheable
		sum.CacheErrors += st.CacheErrors
		sum.CacheWriteErrors += st.CacheWriteErrors
		n++
	}
	return sum, n, nil
}
