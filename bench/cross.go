package main

import (
	"context"
)

// benchCross is benchmark 1 through the cross stand-in; it returns a note
// when it had to be skipped.
func benchCross(ctx context.Context, env *benchEnv, t *table, c crate) (string, error) {
	return "not yet measured", nil
}
