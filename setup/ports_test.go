package setup

import (
	"fmt"
	"testing"
)

func TestChoosePorts(t *testing.T) {
	const root = "/home/runner/work/_temp/rustcache"
	own, _ := choosePorts(root, 0, "", func(int) portState { return portFree })
	if !inRange(own.host) || own.container != own.host+1 || own.host+1 >= 32768 {
		t.Fatalf("root's own ports %+v: want an even host port in %d–%d, below the ephemeral ranges", own, portBase, portBase+2*portSlots-1)
	}
	next := portBase + ((own.host-portBase)/2+1)%portSlots*2
	busy := func(states map[int]portState) func(int) portState {
		return func(p int) portState { return states[p] } // portFree when absent
	}
	tests := []struct {
		name      string
		prev      int
		user      string
		states    map[int]portState
		want      int
		wantMoved bool
	}{
		{name: "free", want: own.host},
		{name: "user's port", user: "4226", states: map[int]portState{4226: portListening}, want: 4226},
		{name: "earlier setup's port, free", prev: next, want: next},
		{name: "earlier setup's port, its server answers", prev: next, states: map[int]portState{next: portListening}, want: next},
		{name: "earlier setup's port held", prev: next, states: map[int]portState{next: portHeld}, want: own.host},
		{name: "earlier port outside the range", prev: 45000, want: own.host},
		{name: "another server on the root's port", states: map[int]portState{own.host: portListening}, want: next, wantMoved: true},
		{name: "root's port held by a connection", states: map[int]portState{own.host: portHeld}, want: next, wantMoved: true},
		{name: "container port held", states: map[int]portState{own.host + 1: portHeld}, want: next, wantMoved: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, moved := choosePorts(root, tt.prev, tt.user, busy(tt.states))
			if got.host != tt.want || got.container != tt.want+1 || moved != tt.wantMoved {
				t.Errorf("choosePorts = %+v, moved %v; want host %d, moved %v", got, moved, tt.want, tt.wantMoved)
			}
		})
	}
	t.Run("everything busy", func(t *testing.T) {
		got, moved := choosePorts(root, 0, "", func(int) portState { return portHeld })
		if got != own || moved {
			t.Errorf("choosePorts = %+v, moved %v; want the root's own %+v", got, moved, own)
		}
	})
	t.Run("spread", func(t *testing.T) {
		seen := map[int]bool{}
		for i := range 200 {
			p, _ := choosePorts(fmt.Sprintf("/runner-%d/_temp/rustcache", i), 0, "", func(int) portState { return portFree })
			if !inRange(p.host) {
				t.Fatalf("port %d out of range", p.host)
			}
			seen[p.host] = true
		}
		if len(seen) < 190 {
			t.Errorf("200 roots share %d ports", len(seen))
		}
	})
}
