// The Go + gorilla/websocket chat server from the scotch.io tutorial
// "Build a Realtime Chat Application in Go" (Ed Zynda), kept as a benchmark
// peer for Herald. Differences from the tutorial, and nothing else:
//
//  1. clientsMu (a sync.Mutex) guards the clients map: the tutorial writes
//     the map from every connection's goroutine and reads it from
//     handleMessages unsynchronised, which dies with "fatal error:
//     concurrent map writes / concurrent map iteration and map write"
//     under connection churn.
//  2. A failed upgrade (e.g. a plain GET /ws) is logged and the handler
//     returns, where the tutorial calls log.Fatal and exits the process.
//  3. The listen address and the static folder come from flags (-port,
//     env PORT; -host; -static) instead of ":8000" and "../public".
//
// Like the tutorial, handleMessages writes to each client in turn with the
// lock held (one slow client stalls everyone) and every message is sent as
// json.Encoder output: {"email":"","username":"","message":"hi"}\n
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"sync"

	"github.com/gorilla/websocket"
)

var clients = make(map[*websocket.Conn]bool) // connected clients
var clientsMu sync.Mutex                     // change 1: guards clients
var broadcast = make(chan Message)           // broadcast channel

// Configure the upgrader
var upgrader = websocket.Upgrader{}

// Define our message object
type Message struct {
	Email    string `json:"email"`
	Username string `json:"username"`
	Message  string `json:"message"`
}

func main() {
	defaultPort := os.Getenv("PORT")
	if defaultPort == "" {
		defaultPort = "8000"
	}
	host := flag.String("host", "127.0.0.1", "address to bind")
	port := flag.String("port", defaultPort, "port to listen on (env PORT)")
	static := flag.String("static", "../public", "folder served on /")
	flag.Parse()

	// Create a simple file server
	fs := http.FileServer(http.Dir(*static))
	http.Handle("/", fs)

	// Configure websocket route
	http.HandleFunc("/ws", handleConnections)

	// Start listening for incoming chat messages
	go handleMessages()

	// Start the server and log any errors
	addr := net.JoinHostPort(*host, *port)
	log.Println("http server started on " + addr)
	err := http.ListenAndServe(addr, nil)
	if err != nil {
		log.Fatal("ListenAndServe: ", err)
	}
}

func handleConnections(w http.ResponseWriter, r *http.Request) {
	// Upgrade initial GET request to a websocket
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		log.Println(err) // change 2: the tutorial has log.Fatal(err)
		return
	}
	// Make sure we close the connection when the function returns
	defer ws.Close()

	// Register our new client
	clientsMu.Lock()
	clients[ws] = true
	clientsMu.Unlock()

	for {
		var msg Message
		// Read in a new message as JSON and map it to a Message object
		err := ws.ReadJSON(&msg)
		if err != nil {
			log.Printf("error: %v", err)
			clientsMu.Lock()
			delete(clients, ws)
			clientsMu.Unlock()
			break
		}
		// Send the newly received message to the broadcast channel
		broadcast <- msg
	}
}

func handleMessages() {
	for {
		// Grab the next message from the broadcast channel
		msg := <-broadcast
		// Send it out to every client that is currently connected
		clientsMu.Lock()
		for client := range clients {
			err := client.WriteJSON(msg)
			if err != nil {
				log.Printf("error: %v", err)
				client.Close()
				delete(clients, client)
			}
		}
		clientsMu.Unlock()
	}
}
