package main

import (
	"context"
	"errors"

	"github.com/teplokarta/teplokarta/internal/cli"
)

// runBroker is being written (see the open issue); it fails loudly until then.
func runBroker(_ context.Context, _ *cli.Env, _ []string) error {
	return errors.New("broker: not implemented yet")
}
