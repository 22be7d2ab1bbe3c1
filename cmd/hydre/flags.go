package main

import (
	"fmt"
	"strconv"
	"strings"
)

// stringsFlag is a repeatable option: each use adds a value.
type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, ", ") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }

// sizeFlag is a byte count given as a number with an optional K, M, G or T
// suffix (powers of 1024).
type sizeFlag int64

// String writes the size with the largest suffix that divides it, as -h
// shows defaults ("8G").
func (f *sizeFlag) String() string {
	n := int64(*f)
	for i := len("KMGT"); i > 0; i-- {
		if n != 0 && n%(1<<(10*i)) == 0 {
			return strconv.FormatInt(n>>(10*i), 10) + "KMGT"[i-1:i]
		}
	}
	return strconv.FormatInt(n, 10)
}

func (f *sizeFlag) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	*f = sizeFlag(n)
	return nil
}

func parseSize(v string) (int64, error) {
	s := strings.ToUpper(strings.TrimSpace(v))
	s = strings.TrimSuffix(strings.TrimSuffix(s, "IB"), "B")
	shift := 0
	if s != "" {
		if i := strings.IndexByte("KMGT", s[len(s)-1]); i >= 0 {
			shift = 10 * (i + 1)
			s = s[:len(s)-1]
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)>>shift {
		return 0, fmt.Errorf("bad size %q (want e.g. 500M or 20G)", v)
	}
	return n << shift, nil
}
