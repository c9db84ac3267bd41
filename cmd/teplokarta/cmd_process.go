package main

import (
	"context"
	"errors"

	"github.com/teplokarta/teplokarta/internal/cli"
)

// runProcess is being written (see the open issue); it fails loudly until then.
func runProcess(_ context.Context, _ *cli.Env, _ []string) error {
	return errors.New("process: not implemented yet")
}
