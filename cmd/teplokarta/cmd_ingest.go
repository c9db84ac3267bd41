package main

import (
	"context"
	"errors"

	"github.com/teplokarta/teplokarta/internal/cli"
)

// runIngest is being written (see the open issue); it fails loudly until then.
func runIngest(_ context.Context, _ *cli.Env, _ []string) error {
	return errors.New("ingest: not implemented yet")
}
