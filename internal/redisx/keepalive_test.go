package redisx

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestKeepAlive(t *testing.T) {
	t.Run("renews until stopped and not after", func(t *testing.T) {
		var n atomic.Int32
		stop := KeepAlive(time.Millisecond, func(context.Context) (bool, error) { n.Add(1); return true, nil }, nil)
		for n.Load() < 3 {
			time.Sleep(time.Millisecond)
		}
		stop()
		after := n.Load()
		time.Sleep(20 * time.Millisecond)
		if n.Load() != after {
			t.Fatalf("renewed %d times after stop returned", n.Load()-after)
		}
	})
	t.Run("a loss is reported once and ends the renewals", func(t *testing.T) {
		var n, lost atomic.Int32
		gone := make(chan struct{})
		stop := KeepAlive(time.Millisecond, func(context.Context) (bool, error) { n.Add(1); return false, nil },
			func() { lost.Add(1); close(gone) })
		<-gone
		time.Sleep(20 * time.Millisecond)
		stop()
		if n.Load() != 1 || lost.Load() != 1 {
			t.Fatalf("renew called %d times, lost %d times; want 1 and 1", n.Load(), lost.Load())
		}
	})
	t.Run("an error is not a loss", func(t *testing.T) {
		var n, lost atomic.Int32
		stop := KeepAlive(time.Millisecond, func(context.Context) (bool, error) {
			n.Add(1)
			return false, errors.New("connection refused")
		}, func() { lost.Add(1) })
		for n.Load() < 3 {
			time.Sleep(time.Millisecond)
		}
		stop()
		if lost.Load() != 0 {
			t.Fatal("an error was taken for a loss")
		}
	})
	t.Run("stop cancels a renewal in progress", func(t *testing.T) {
		started := make(chan struct{})
		stop := KeepAlive(time.Millisecond, func(ctx context.Context) (bool, error) {
			close(started)
			<-ctx.Done()
			return true, ctx.Err()
		}, nil)
		<-started
		stop() // would hang if the renewal's context were not cancelled
	})
}
