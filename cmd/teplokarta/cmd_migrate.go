package main

import (
	"context"
	"errors"

	"github.com/teplokarta/teplokarta/internal/cli"
)

// runMigrate is being written (see the open issue); it fails loudly until then.
func runMigrate(_ context.Context, _ *cli.Env, _ []string) error {
	return errors.New("migrate: not implemented yet")
}
