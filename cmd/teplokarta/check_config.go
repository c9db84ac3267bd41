package main

import (
	"fmt"

	"github.com/teplokarta/teplokarta/internal/cli"
)

// addCheckConfigFlag adds --check-config: parse the flags and configuration files and validate them as a
// start would, then exit without connecting to anything. Deployments (and deploy/'s tests) run it with a
// service's exact command line to learn before start-up whether the service would refuse its config.
func addCheckConfigFlag(fs *cli.FlagSet) *bool {
	return fs.Bool("check-config", false, "only validate the flags and configuration files, print \"configuration OK\" and exit")
}

// configOK reports a passed --check-config.
func configOK(env *cli.Env, command string) error {
	fmt.Fprintf(env.Stdout, "%s: configuration OK\n", command)
	return nil
}
