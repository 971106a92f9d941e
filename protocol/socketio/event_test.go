package socketio

import (
	"errors"
	"slices"
	"testing"
)

func TestSplitEvent(t *testing.T) {
	tests := []struct {
		in   string
		name string
		args []string
		err  error
	}{
		{`["chat"]`, "chat", nil, nil},
		{`["chat","hello",1,{"a":[1,"]"]},null,true]`, "chat", []string{`"hello"`, `1`, `{"a":[1,"]"]}`, `null`, `true`}, nil},
		{` [ "chat" , "x\"y" , [ ] ] `, "chat", []string{`"x\"y"`, `[ ]`}, nil},
		{`["caf\u00e9","\\"]`, "café", []string{`"\\"`}, nil},
		{`[""]`, "", nil, nil},
		{`[42,"x"]`, "42", []string{`"x"`}, nil},
		{`[-0]`, "0", nil, nil},
		{`[1.50]`, "1.5", nil, nil},
		{`[1e21]`, "1e+21", nil, nil},
		{`[1e20]`, "100000000000000000000", nil, nil},
		{`[1e-7]`, "1e-7", nil, nil},
		{`[0.000001]`, "0.000001", nil, nil},
		{`[123456789012345678]`, "123456789012345680", nil, nil},
		{`[1e400]`, "Infinity", nil, nil},
		{`[-1e400]`, "-Infinity", nil, nil},
		{`["a",{"_placeholder":true,"num":0}]`, "a", []string{`{"_placeholder":true,"num":0}`}, nil},
		{`[]`, "", nil, ErrInvalidPayload},
		{`[true]`, "", nil, ErrInvalidPayload},
		{`[null,"bar"]`, "", nil, ErrInvalidPayload},
		{`[{"toString":"foo"}]`, "", nil, ErrInvalidPayload},
		{`{"a":1}`, "", nil, ErrInvalidPayload},
		{`"a"`, "", nil, ErrInvalidPayload},
		{`["a"`, "", nil, ErrInvalidPayload},
		{``, "", nil, ErrInvalidPayload},
		{`["connect"]`, "", nil, ErrReservedEventName},
		{`["remove\u004cistener"]`, "", nil, ErrReservedEventName},
	}
	for _, tt := range tests {
		name, args, err := SplitEvent(raw(tt.in))
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("SplitEvent(%s) error = %v, want %v", tt.in, err, tt.err)
			}
			continue
		}
		got := make([]string, len(args))
		for i, a := range args {
			got[i] = string(a)
		}
		if err != nil || name != tt.name || !slices.Equal(got, tt.args) && len(got)+len(tt.args) > 0 {
			t.Errorf("SplitEvent(%s) = %q, %q, %v; want %q, %q", tt.in, name, got, err, tt.name, tt.args)
		}
	}
}

func TestSplitEventArgsDoNotOverlap(t *testing.T) {
	_, args, err := SplitEvent(raw(`["a","b","c"]`))
	if err != nil {
		t.Fatal(err)
	}
	args[0] = append(args[0], 'X') // must not write into args[1]
	if string(args[1]) != `"c"` {
		t.Fatalf("append to one argument changed the next: %q", args)
	}
}

func TestIsReservedEvent(t *testing.T) {
	for _, n := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
		if !IsReservedEvent(n) {
			t.Errorf("%s not reserved", n)
		}
	}
	for _, n := range []string{"Connect", "error", "message", "connecting", ""} {
		if IsReservedEvent(n) {
			t.Errorf("%s reserved", n)
		}
	}
}

func TestSplitEventAllocs(t *testing.T) {
	data := raw(`["message",{"text":"hello"},1]`)
	if n := testing.AllocsPerRun(100, func() { SplitEvent(data) }); n > 2 {
		t.Errorf("SplitEvent allocates %v times, want <= 2", n)
	}
}
