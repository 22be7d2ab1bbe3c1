package main

// environment is every environment variable hydre reads, read once by run
// and passed down in globals; nothing else in this package calls
// os.Getenv. (Package clocale reads the locale earlier, while packages
// initialise, as it must: see its doc.)
type environment struct {
	Home    string // HYDRE_HOME: the data directory (--data-dir wins)
	Testnet string // HYDRE_TESTNET: a private Tor network's folder (--testnet wins)
	// HYDRE_TOR_CONTROL and HYDRE_TOR_COOKIE: attach to a running tor
	// (--control and --cookie of 'hydre tor status' win).
	TorControl, TorCookie string
	// TorPassword (HYDRE_TOR_PASSWORD) is the ControlPort password: never a
	// flag, since command lines are visible to every user.
	TorPassword string
	TorPath     string // HYDRE_TOR_PATH: the tor program of a managed tor
	// Display: DISPLAY or WAYLAND_DISPLAY is set (a Unix desktop session).
	Display bool
}

// readEnvironment reads the environment through getenv (os.Getenv).
func readEnvironment(getenv func(string) string) environment {
	return environment{
		Home:        getenv("HYDRE_HOME"),
		Testnet:     getenv("HYDRE_TESTNET"),
		TorControl:  getenv("HYDRE_TOR_CONTROL"),
		TorCookie:   getenv("HYDRE_TOR_COOKIE"),
		TorPassword: getenv("HYDRE_TOR_PASSWORD"),
		TorPath:     getenv("HYDRE_TOR_PATH"),
		Display:     getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != "",
	}
}
