package main

import (
	"context"
	"errors"

	"github.com/teplokarta/teplokarta/internal/cli"
)

// runTrain is being written (see the open issue); it fails loudly until then.
func runTrain(_ context.Context, _ *cli.Env, _ []string) error {
	return errors.New("train: not implemented yet")
}
