package save

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/org/rustcache-action/internal/job"
	"github.com/org/rustcache-action/internal/report"
	"github.com/org/rustcache-action/internal/runenv"
	"github.com/org/rustcache-action/internal/state"
)

// NestedStep is the step that uploads the entry on the actions/cache route.
const NestedStep = "actions/cache/save"

// OutcomeVar is the variable the action files give save-finish: the nested
// step's outcome.
const OutcomeVar = "RUSTCACHE_NESTED_OUTCOME"

// HandoffFile is the name, under the root, of the report save hands to
// save-finish.
const HandoffFile = "save-handoff.json"

// handoff is what save leaves for save-finish.
type handoff struct {
	Report    *report.Data `json:"report"`
	KeyPrefix string       `json:"key_prefix"`
}

// handOff records the report so far and writes the outputs the nested
// actions/cache/save step takes: handoff, key and path. The directory is
// already trimmed; actions/cache/save archives it as it is.
func handOff(j *job.Job, d *report.Data, key, prefix string) error {
	d.SavedKey, d.SavedBy, d.Protocol, d.PrimaryKey = key, NestedStep, "actions/cache", key
	b, err := json.Marshal(handoff{Report: d, KeyPrefix: prefix})
	if err != nil {
		return fmt.Errorf("encode the report: %w", err)
	}
	if err := state.WriteFileAtomic(filepath.Join(j.Root, HandoffFile), b, 0o644); err != nil {
		return fmt.Errorf("record the report: %w", err)
	}
	return j.HandOff(NestedStep, key, nil)
}

// Finish completes a save handed to actions/cache/save: it prunes superseded
// entries once the nested step succeeded, and writes the summary and the
// outputs.
func Finish(ctx context.Context, e *runenv.Env) error {
	j, o, err := open(e)
	if err != nil {
		return err
	}
	path := filepath.Join(j.Root, HandoffFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("no save handed to %s under %q (run the save step first, with the same cache-root): %w", NestedStep, j.Root, err)
	}
	var h handoff
	if err := json.Unmarshal(b, &h); err != nil || h.Report == nil {
		return fmt.Errorf("could not read %q: %w", path, errors.Join(err, errors.New("no report")))
	}
	// Once: a second save-finish of the same save has nothing to publish.
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("could not remove %q: %w", path, err)
	}
	d := h.Report
	if outcome := strings.TrimSpace(e.Getenv(OutcomeVar)); outcome != "success" {
		d.SavedKey, d.SaveSkip = "", NestedStep+" ended with "+outcome
		if err := j.Fault("cache save failed", errors.New(d.SaveSkip)); err != nil {
			return err
		}
	} else {
		pruneOld(ctx, j, o, h.KeyPrefix, d.SavedKey, d)
	}
	return publish(j, d)
}
