//go:build !race

package api_test

// raceEnabled: the race detector is on (memory measurements mean little).
const raceEnabled = false
