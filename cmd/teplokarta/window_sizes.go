package main

import (
	"fmt"
	"strings"
	"time"
)

// parseSizes reads "--window-sizes 1m,1h,24h". The window package checks that the sizes tile a day.
func parseSizes(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		d, err := time.ParseDuration(part)
		if err != nil {
			return nil, fmt.Errorf("--window-sizes: %q: %w", part, err)
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--window-sizes: no sizes in %q", s)
	}
	return out, nil
}

// formatSizes is parseSizes' inverse, for the flag's default: "1m,1h,24h" rather than "1m0s,1h0m0s,…".
func formatSizes(sizes []time.Duration) string {
	parts := make([]string, len(sizes))
	for i, d := range sizes {
		switch {
		case d%time.Hour == 0:
			parts[i] = fmt.Sprintf("%dh", d/time.Hour)
		case d%time.Minute == 0:
			parts[i] = fmt.Sprintf("%dm", d/time.Minute)
		default:
			parts[i] = d.String()
		}
	}
	return strings.Join(parts, ",")
}
