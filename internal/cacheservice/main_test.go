package cacheservice_test

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if azurite != nil {
		azurite.Stop()
	}
	os.Exit(code)
}
