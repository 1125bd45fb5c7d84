// Two agents on the official openai client, configured by OPENAI_BASE_URL
// alone (the key is a placeholder, as for a local Ollama); run at once and
// awaited together. Nothing here knows about parbench.
import OpenAI from 'openai'

const client = new OpenAI({ apiKey: 'ollama' })

async function agent(prompt) {
  const stream = await client.chat.completions.create({
    model: 'gemma3:latest',
    messages: [{ role: 'user', content: prompt }],
    max_tokens: 40,
    stream: true,
  })
  let text = ''
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ''
  return text.length
}

const sizes = await Promise.all([agent('Name three rivers.'), agent('Count to ten.')])
console.log(`openai-node: answers of ${sizes.join(' and ')} characters`)
