package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/frontdesk/frontdesk/handoff"
)

const agentUsage = `usage: frontdesk agent <command> [flags]

commands:
  add      add a person who signs in to the console
             --email E --name N [--role admin|agent|social] [--password-stdin]
  passwd   set an agent's password and sign them out everywhere
             --email E [--password-stdin]
  list     list the agents

The password is read from standard input: typed at a prompt (not echoed)
when it is a terminal, else the first line. --password-stdin insists on the
latter, for scripts: printf '%s\n' "$PW" | frontdesk agent add ... --password-stdin
`

// runAgent manages console agents from the command line: the first admin
// of a new store, and a way back in for a locked-out one.
func runAgent(ctx context.Context, args []string) error {
	if len(args) == 0 {
		io.WriteString(os.Stderr, agentUsage) //nolint:errcheck
		return errors.New("agent: name a command")
	}
	switch args[0] {
	case "add":
		return agentAdd(ctx, args[1:])
	case "passwd":
		return agentPasswd(ctx, args[1:])
	case "list":
		return agentList(ctx, args[1:])
	case "-h", "--help", "help":
		io.WriteString(os.Stdout, agentUsage) //nolint:errcheck
		return nil
	}
	io.WriteString(os.Stderr, agentUsage) //nolint:errcheck
	return fmt.Errorf("agent: unknown command %q", args[0])
}

func agentAdd(ctx context.Context, args []string) error {
	flags := flag.NewFlagSet("agent add", flag.ExitOnError)
	email := flags.String("email", "", "the agent's e-mail address, used to sign in")
	name := flags.String("name", "", "the agent's name, as colleagues see it")
	role := flags.String("role", string(handoff.RoleAgent), "admin, agent or social")
	fromStdin := flags.Bool("password-stdin", false, "read the password from the first line of standard input")
	flags.Parse(args) //nolint:errcheck // ExitOnError
	if *email == "" || *name == "" {
		return errors.New("agent add: --email and --name are required")
	}
	password, err := readPassword(*fromStdin, true)
	if err != nil {
		return err
	}
	pool, err := openMigrated(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	agent, err := handoff.CreateAgent(ctx, pool, handoff.AgentInput{Email: *email, Name: *name, Role: *role, Password: password})
	if err != nil {
		return fmt.Errorf("agent add: %w", err)
	}
	fmt.Fprintf(os.Stdout, "added %s %s <%s> (agent %d)\n", agent.Role, agent.Name, agent.Email, agent.ID)
	return nil
}

func agentPasswd(ctx context.Context, args []string) error {
	flags := flag.NewFlagSet("agent passwd", flag.ExitOnError)
	email := flags.String("email", "", "the agent's e-mail address")
	fromStdin := flags.Bool("password-stdin", false, "read the password from the first line of standard input")
	flags.Parse(args) //nolint:errcheck // ExitOnError
	if *email == "" {
		return errors.New("agent passwd: --email is required")
	}
	password, err := readPassword(*fromStdin, true)
	if err != nil {
		return err
	}
	pool, err := openMigrated(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := handoff.SetPassword(ctx, pool, *email, password); err != nil {
		return fmt.Errorf("agent passwd: %w", err)
	}
	fmt.Fprintln(os.Stdout, "password changed; the agent was signed out everywhere")
	return nil
}

func agentList(ctx context.Context, args []string) error {
	flags := flag.NewFlagSet("agent list", flag.ExitOnError)
	flags.Parse(args) //nolint:errcheck // ExitOnError
	pool, err := openMigrated(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	agents, err := handoff.ListAgents(ctx, pool)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tROLE\tSTATUS\tE-MAIL\tNAME")
	for _, a := range agents {
		status := "active"
		if !a.Active {
			status = "deactivated"
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", a.ID, a.Role, status, a.Email, a.Name)
	}
	return w.Flush()
}

// readPassword reads a password from standard input: the first line, or,
// at a terminal (unless fromStdin), twice at a prompt without echo.
func readPassword(fromStdin, confirm bool) (string, error) {
	fd := int(os.Stdin.Fd())
	if !fromStdin && term.IsTerminal(fd) {
		fmt.Fprint(os.Stderr, "Password: ")
		first, err := term.ReadPassword(fd)
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if confirm {
			fmt.Fprint(os.Stderr, "Again: ")
			second, err := term.ReadPassword(fd)
			fmt.Fprintln(os.Stderr)
			if err != nil {
				return "", fmt.Errorf("read password: %w", err)
			}
			if string(first) != string(second) {
				return "", errors.New("the passwords do not match")
			}
		}
		return string(first), nil
	}
	line, err := bufio.NewReader(io.LimitReader(os.Stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on standard input")
	}
	return line, nil
}
