"""Conversations the template tests render (canonical rows' messages)."""

U1 = {"role": "user", "content": "Hello, who are you?"}
A1 = {"role": "assistant", "content": "I am a helpful assistant."}
U2 = {"role": "user", "content": "What is the weather like today in Paris?"}
A2 = {"role": "assistant", "content": "I cannot check the weather, sorry."}
SYS = {"role": "system", "content": "You are a terse assistant."}
EMPTY_SYS = {"role": "system", "content": ""}

# name -> messages; names starting with "prompt" end with a user message
CONVERSATIONS = {
    "single": [U1, A1],
    "multi": [U1, A1, U2, A2],
    "system": [SYS, U1, A1],
    "system_multi": [SYS, U1, A1, U2, A2],
    "empty_system": [EMPTY_SYS, U1, A1],
    "unicode": [{"role": "user", "content": "你好，世界！🌍 Ça va?"},
                {"role": "assistant", "content": "很好 😀 — merci! 谢谢。"}],
    "spaces": [{"role": "user", "content": "  padded question \n"},
               {"role": "assistant", "content": " padded answer  "}],
    "prompt": [U1],
    "prompt_multi": [U1, A1, U2],
    "prompt_system": [SYS, U1, A1, U2],
}
SYSTEM_CONVERSATIONS = {"system", "system_multi", "empty_system", "prompt_system"}

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Get the current weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}},
                   "required": ["city"]}}}
TIME_TOOL = {"type": "function", "function": {
    "name": "get_time", "description": "Current time in a timezone.",
    "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}}}}
TOOLS = [WEATHER_TOOL, TIME_TOOL]


def call(name: str, arguments: dict) -> dict:
    return {"type": "function", "function": {"name": name, "arguments": arguments}}


TOOL_CONVERSATIONS = {
    "tool_single": [
        {"role": "user", "content": "What's the weather in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [call("get_weather", {"city": "Paris"})]},
        {"role": "tool", "content": '{"temperature": 21, "sky": "晴"}'},
        {"role": "assistant", "content": "It is 21°C and sunny in Paris."},
    ],
    "tool_system_prompt": [
        SYS,
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [call("get_weather", {"city": "Paris"})]},
        {"role": "tool", "content": "21 degrees"},
    ],
}
# two calls in one message and content before them (Qwen formats only; Llama-3.1 allows one call)
MULTI_CALL = [
    {"role": "user", "content": "Weather and time in Paris?"},
    {"role": "assistant", "content": "Let me check.",
     "tool_calls": [call("get_weather", {"city": "Paris"}), call("get_time", {"tz": "Europe/Paris"})]},
    {"role": "tool", "content": "21 degrees"},
    {"role": "tool", "content": "14:00"},
    {"role": "assistant", "content": "21 degrees at 14:00."},
]
