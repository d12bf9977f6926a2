package backend

import (
	"encoding/json"
	"fmt"
)

// Trust says whether this run builds code from outside the repository: a
// pull request (or a workflow_run it triggered) whose head is in another
// repository, a fork. Such a build must not write to a shared store — a
// poisoned entry would be served to every later build.
type Trust struct {
	Untrusted bool
	Reason    string // why, for the log and the summary
}

// pullRequestEvents carry a pull_request object in their payload.
var pullRequestEvents = map[string]bool{
	"pull_request": true, "pull_request_target": true,
	"pull_request_review": true, "pull_request_review_comment": true,
}

// DetectTrust reads GITHUB_EVENT_NAME and the event payload at
// GITHUB_EVENT_PATH. An unreadable payload of a pull-request event counts as
// untrusted.
func DetectTrust(getenv func(string) string, readFile func(string) ([]byte, error)) Trust {
	event := getenv("GITHUB_EVENT_NAME")
	if !pullRequestEvents[event] && event != "workflow_run" {
		return Trust{}
	}
	path := getenv("GITHUB_EVENT_PATH")
	b, err := readFile(path)
	if err != nil {
		return Trust{true, fmt.Sprintf("%s event whose payload could not be read (%v)", event, err)}
	}
	var p struct {
		PullRequest *struct {
			Head struct {
				Repo *struct {
					FullName string `json:"full_name"`
				} `json:"repo"`
			} `json:"head"`
			Base struct {
				Repo *struct {
					FullName string `json:"full_name"`
				} `json:"repo"`
			} `json:"base"`
		} `json:"pull_request"`
		WorkflowRun *struct {
			Event          string `json:"event"`
			HeadRepository *struct {
				FullName string `json:"full_name"`
			} `json:"head_repository"`
			Repository *struct {
				FullName string `json:"full_name"`
			} `json:"repository"`
		} `json:"workflow_run"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return Trust{true, fmt.Sprintf("%s event whose payload is not JSON", event)}
	}
	if event == "workflow_run" {
		w := p.WorkflowRun
		if w == nil || w.HeadRepository == nil || w.Repository == nil {
			return Trust{}
		}
		if w.HeadRepository.FullName != w.Repository.FullName {
			return Trust{true, fmt.Sprintf("workflow_run of a %s from the fork %s", w.Event, w.HeadRepository.FullName)}
		}
		return Trust{}
	}
	pr := p.PullRequest
	if pr == nil || pr.Base.Repo == nil {
		return Trust{true, event + " event without a pull request in its payload"}
	}
	if pr.Head.Repo == nil {
		return Trust{true, "pull request from a deleted fork"}
	}
	if pr.Head.Repo.FullName != pr.Base.Repo.FullName {
		return Trust{true, "pull request from the fork " + pr.Head.Repo.FullName}
	}
	return Trust{}
}

// ReadOnly decides the mode from the backend-read-only input and the trust.
func ReadOnly(input string, t Trust) bool {
	switch input {
	case "true":
		return true
	case "false":
		return false
	}
	return t.Untrusted
}
