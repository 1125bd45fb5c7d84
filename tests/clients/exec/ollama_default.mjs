// Two agents on the official ollama client's default instance, which
// connects to 127.0.0.1:11434 and reads no environment variable; run at
// once and awaited together. Nothing here knows about parbench.
import ollama from 'ollama'

async function agent(prompt) {
  const stream = await ollama.chat({
    model: 'gemma3:latest',
    messages: [{ role: 'user', content: prompt }],
    stream: true,
    options: { num_predict: 40 },
  })
  let text = ''
  for await (const part of stream) text += part.message.content
  return text.length
}

const sizes = await Promise.all([agent('Name three rivers.'), agent('Count to ten.')])
console.log(`ollama-js: answers of ${sizes.join(' and ')} characters`)
