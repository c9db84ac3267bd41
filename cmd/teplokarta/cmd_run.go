package main

import (
	"context"
	"errors"

	"github.com/teplokarta/teplokarta/internal/cli"
)

// runAll is being written (see the open issue); it fails loudly until then.
func runAll(_ context.Context, _ *cli.Env, _ []string) error {
	return errors.New("run: not implemented yet")
}
