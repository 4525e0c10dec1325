package main

import (
	"context"
	"errors"
	"io"
	"os"

	"github.com/openlsc/openlsc/api"
)

// storageReady is the readiness check of the storage directory: it must be
// there and readable (downloads are served from it).
func storageReady(dir string) api.ReadyCheck {
	return api.ReadyCheck{
		Detail: "The storage directory cannot be read.",
		Check: func(context.Context) error {
			f, err := os.Open(dir)
			if err != nil {
				return err
			}
			defer f.Close()
			if _, err := f.Readdirnames(1); err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			return nil
		},
	}
}
