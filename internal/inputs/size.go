package inputs

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// SizeWant is what a bad size is told.
const SizeWant = "expected a size such as 500M, 2G or 10G (a whole number with an optional K, M, G or T suffix, above zero)"

var sizeRE = regexp.MustCompile(`^([0-9]+)([KMGT]?)$`)

// NormalizeSize is the one rule for cache sizes, whether from the cache-size
// input or from SCCACHE_CACHE_SIZE in the environment: a whole number above
// zero with an optional K, M, G or T suffix (powers of 1024, any case, an
// optional B or iB after it), as sccache's SCCACHE_CACHE_SIZE takes it. It
// returns the text sccache is given ("2G") and the size in bytes.
func NormalizeSize(s string) (string, int64, error) {
	v := strings.ToUpper(strings.TrimSpace(s))
	v = strings.TrimSuffix(strings.TrimSuffix(v, "IB"), "B")
	m := sizeRE.FindStringSubmatch(v)
	if m == nil {
		return "", 0, fmt.Errorf("size %q: want digits with an optional K, M, G or T suffix", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("size %q: %w", s, err)
	}
	shift := map[string]uint{"": 0, "K": 10, "M": 20, "G": 30, "T": 40}[m[2]]
	if n > (1<<62)>>shift {
		return "", 0, fmt.Errorf("size %q: too large", s)
	}
	if n == 0 {
		return "", 0, fmt.Errorf("size %q: zero", s)
	}
	return v, n << shift, nil
}
