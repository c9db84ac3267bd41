package main

import (
	"context"
	"errors"

	"github.com/teplokarta/teplokarta/internal/cli"
)

// runSimulate is being written (see the open issue); it fails loudly until then.
func runSimulate(_ context.Context, _ *cli.Env, _ []string) error {
	return errors.New("simulate: not implemented yet")
}
