package main

import (
	"context"
	"errors"

	"github.com/teplokarta/teplokarta/internal/cli"
)

// runClassify is being written (see the open issue); it fails loudly until then.
func runClassify(_ context.Context, _ *cli.Env, _ []string) error {
	return errors.New("classify: not implemented yet")
}
