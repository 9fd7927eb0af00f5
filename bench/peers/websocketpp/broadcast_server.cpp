// websocketpp's examples/broadcast_server (0.8.2), a peer for Herald's
// benchmarks. Same shape as the example: a set of connection_hdl guarded by
// a mutex, an action queue (SUBSCRIBE / UNSUBSCRIBE / MESSAGE) guarded by a
// mutex + condition variable and drained by one processing thread, which
// calls m_server.send(hdl, msg) for every connection; one Asio thread runs
// m_server.run(). Every message is sent back unchanged (same payload, same
// opcode) to every connection, the sender included.
//
// Changes from the example, and nothing else:
//  - crash fix: the processing thread calls the error_code overload
//    m_server.send(hdl, msg, ec) and ignores a failure, where the example
//    calls the throwing m_server.send(hdl, msg). A connection that has
//    started closing (close frame received) is still in m_connections until
//    its UNSUBSCRIBE action is processed; send() on it throws
//    websocketpp::exception "invalid state" (or "Bad Connection" for an
//    expired hdl), nothing catches it on that thread, and the process dies
//    with std::terminate. Seen here under connection churn with broadcasts
//    (bench/check-peers.py); upstream: zaphoyd/websocketpp#687, #838, where
//    the maintainer's advice is to catch and ignore it;
//  - listens on 127.0.0.1:PORT (argv[1], default 9002) instead of all
//    interfaces on 9002, with SO_REUSEADDR;
//  - logging: the example keeps websocketpp's defaults, which write an
//    access-log line for every connect/disconnect and EVERY frame header and
//    payload to stdout; here access logging is off and the error log keeps
//    only rerror + fatal, so the benchmark measures the server and not its
//    terminal;
//  - only the /ws path is used by the clients, but like the example any
//    path is accepted.
//
// Built against Debian 12's libwebsocketpp-dev 0.8.2-4 and Boost 1.81's
// Asio (libboost1.81-dev); see bench/setup-peers.sh for the compile line.

#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

#include <iostream>
#include <queue>
#include <set>
#include <string>

#include <websocketpp/common/thread.hpp>

typedef websocketpp::server<websocketpp::config::asio> server;

using websocketpp::connection_hdl;
using websocketpp::lib::bind;
using websocketpp::lib::placeholders::_1;
using websocketpp::lib::placeholders::_2;

using websocketpp::lib::condition_variable;
using websocketpp::lib::lock_guard;
using websocketpp::lib::mutex;
using websocketpp::lib::thread;
using websocketpp::lib::unique_lock;

/* on_open insert connection_hdl into channel
 * on_close remove connection_hdl from channel
 * on_message queue send to all channels
 */

enum action_type { SUBSCRIBE, UNSUBSCRIBE, MESSAGE };

struct action {
  action(action_type t, connection_hdl h) : type(t), hdl(h) {}
  action(action_type t, connection_hdl h, server::message_ptr m) : type(t), hdl(h), msg(m) {}

  action_type type;
  websocketpp::connection_hdl hdl;
  server::message_ptr msg;
};

class broadcast_server {
 public:
  broadcast_server() {
    // Benchmark change: no per-connection / per-frame logging.
    m_server.clear_access_channels(websocketpp::log::alevel::all);
    m_server.clear_error_channels(websocketpp::log::elevel::all);
    m_server.set_error_channels(websocketpp::log::elevel::rerror | websocketpp::log::elevel::fatal);

    // Initialize Asio Transport
    m_server.init_asio();
    m_server.set_reuse_addr(true);

    // Register handler callbacks
    m_server.set_open_handler(bind(&broadcast_server::on_open, this, ::_1));
    m_server.set_close_handler(bind(&broadcast_server::on_close, this, ::_1));
    m_server.set_message_handler(bind(&broadcast_server::on_message, this, ::_1, ::_2));
  }

  void run(std::string const& host, std::string const& port) {
    // listen on specified address and port
    m_server.listen(host, port);

    // Start the server accept loop
    m_server.start_accept();

    std::cout << "websocketpp " << websocketpp::user_agent << " broadcast_server listening on ws://"
              << host << ":" << port << "/ws" << std::endl;

    // Start the ASIO io_service run loop
    try {
      m_server.run();
    } catch (const std::exception& e) {
      std::cout << e.what() << std::endl;
    }
  }

  void on_open(connection_hdl hdl) {
    {
      lock_guard<mutex> guard(m_action_lock);
      // std::cout << "on_open" << std::endl;
      m_actions.push(action(SUBSCRIBE, hdl));
    }
    m_action_cond.notify_one();
  }

  void on_close(connection_hdl hdl) {
    {
      lock_guard<mutex> guard(m_action_lock);
      // std::cout << "on_close" << std::endl;
      m_actions.push(action(UNSUBSCRIBE, hdl));
    }
    m_action_cond.notify_one();
  }

  void on_message(connection_hdl hdl, server::message_ptr msg) {
    // queue message up for sending by processing thread
    {
      lock_guard<mutex> guard(m_action_lock);
      // std::cout << "on_message" << std::endl;
      m_actions.push(action(MESSAGE, hdl, msg));
    }
    m_action_cond.notify_one();
  }

  void process_messages() {
    while (1) {
      unique_lock<mutex> lock(m_action_lock);

      while (m_actions.empty()) {
        m_action_cond.wait(lock);
      }

      action a = m_actions.front();
      m_actions.pop();

      lock.unlock();

      if (a.type == SUBSCRIBE) {
        lock_guard<mutex> guard(m_connection_lock);
        m_connections.insert(a.hdl);
      } else if (a.type == UNSUBSCRIBE) {
        lock_guard<mutex> guard(m_connection_lock);
        m_connections.erase(a.hdl);
      } else if (a.type == MESSAGE) {
        lock_guard<mutex> guard(m_connection_lock);

        con_list::iterator it;
        for (it = m_connections.begin(); it != m_connections.end(); ++it) {
          // Crash fix (see the header): the example's throwing
          // m_server.send(*it,a.msg) terminates the process.
          websocketpp::lib::error_code ec;
          m_server.send(*it, a.msg, ec);
        }
      } else {
        // undefined.
      }
    }
  }

 private:
  typedef std::set<connection_hdl, std::owner_less<connection_hdl> > con_list;

  server m_server;
  con_list m_connections;
  std::queue<action> m_actions;

  mutex m_action_lock;
  mutex m_connection_lock;
  condition_variable m_action_cond;
};

int main(int argc, char* argv[]) {
  std::string port = argc > 1 ? argv[1] : "9002";
  std::string host = argc > 2 ? argv[2] : "127.0.0.1";
  try {
    broadcast_server server_instance;

    // Start a thread to run the processing loop
    thread t(bind(&broadcast_server::process_messages, &server_instance));

    // Run the asio loop with the main thread
    server_instance.run(host, port);

    t.join();

  } catch (websocketpp::exception const& e) {
    std::cout << e.what() << std::endl;
  }
}
