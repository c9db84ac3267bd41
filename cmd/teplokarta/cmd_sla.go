package main

import (
	"context"
	"errors"

	"github.com/teplokarta/teplokarta/internal/cli"
)

// runSLA is being written (see the open issue); it fails loudly until then.
func runSLA(_ context.Context, _ *cli.Env, _ []string) error {
	return errors.New("sla: not implemented yet")
}
